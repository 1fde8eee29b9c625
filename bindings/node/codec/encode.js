'use strict';
// The JS encoder of the wire format (V8 ValueSerializer, version 15): writes exactly the bytes
// `new v8.Serializer()` writes (writeHeader + writeValue) for the common values, into one
// reused buffer per thread, so a post needs no Serializer object (a C++ object per message
// costs more than the rest of the post). Anything it does not handle makes it give up (return
// -1) before anything is posted, and the caller falls back to V8's own serializer.
//
// Where V8's choice depends on its internal representation, which JS cannot see, we pick the
// representation V8 gives the value when it is built the ordinary way (literals, push, stores):
// - a number that fits a Smi (int32, not -0) is written `I`, any other `N`; V8 writes `N` for an
//   int32 value held as a double (a property that held doubles before, an element of an array
//   that held doubles);
// - an array of numbers of which one is not a Smi is written all-`N` (V8's PACKED_DOUBLE kind);
// - an array without holes is written dense (`A`); V8 writes HOLEY arrays sparse (`a`) even when
//   no element is missing (e.g. `new Array(3).fill(0)`), and arrays whose elements it keeps in
//   a dictionary (an element with a getter or non-default attributes, an array once sparse);
//   arrays with holes or extra named properties give up (V8 writes them). Each element is read
//   once, as V8 reads it: a getter on an element runs once;
// - a string whose code units are all <= 0xFF is written one-byte (`"`), else two-byte (`c`).
// Every variant reads back as the same value (tests/node/codec.test.js and codec-arrays.test.js
// check bytes and values).

const { isProxy, isArgumentsObject, isMap, isSet, isDate, isArrayBuffer, isDataView, isNumberObject,
        isStringObject, isBooleanObject, isBigIntObject } = require('util').types;
const L = require('./limits.js');

/** Thrown inside the encoder to give up; never escapes `encode`. */
const GIVE_UP = Symbol('give up');

const SCRATCH_SIZE = 64 * 1024;
/** One scratch buffer per thread (module instances are per thread): a post copies out of it. */
const scratch = Buffer.allocUnsafeSlow(SCRATCH_SIZE);
scratch[0] = 0xff;
scratch[1] = 0x0f;
// A larger buffer kept for messages that outgrow the scratch (up to KEEP_BIG bytes).
const KEEP_BIG = 8 * 1024 * 1024;
let big = null;

const F64 = new Float64Array(1);
const F8 = new Uint8Array(F64.buffer);
const MAX_DEPTH = 1000; // deeper values go to V8 (it recurses on the native stack)
const MAX_SEEN_LINEAR = 24; // up to this many objects, a linear scan beats a Map

const TypedArrayProto = Object.getPrototypeOf(Uint8Array.prototype);
const getter = (proto, name) => Object.getOwnPropertyDescriptor(proto, name).get;
const taTag = getter(TypedArrayProto, Symbol.toStringTag);
const taBuffer = getter(TypedArrayProto, 'buffer');
const taByteOffset = getter(TypedArrayProto, 'byteOffset');
const taByteLength = getter(TypedArrayProto, 'byteLength');
const dvBuffer = getter(DataView.prototype, 'buffer');
const dvByteOffset = getter(DataView.prototype, 'byteOffset');
const dvByteLength = getter(DataView.prototype, 'byteLength');
const abByteLength = getter(ArrayBuffer.prototype, 'byteLength');
const abResizable = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'resizable');
const abIsResizable = abResizable === undefined ? () => false : abResizable.get;
const dateValue = Date.prototype.getTime;
const numberValue = Number.prototype.valueOf;
const stringValue = String.prototype.valueOf;
const booleanValue = Boolean.prototype.valueOf;
const bigintValue = BigInt.prototype.valueOf;
const hasOwn = Object.prototype.hasOwnProperty;
const isExtensible = Object.isExtensible;
const ObjectProto = Object.prototype;
const MapKeys = Map.prototype.keys;
const MapValues = Map.prototype.values;
const SetValues = Set.prototype.values;

// ArrayBufferView sub-tags by the view's internal type name.
const VIEW_TAG = {
  Int8Array: 0x62, Uint8Array: 0x42, Uint8ClampedArray: 0x43, Int16Array: 0x77,
  Uint16Array: 0x57, Int32Array: 0x64, Uint32Array: 0x44, Float16Array: 0x68,
  Float32Array: 0x66, Float64Array: 0x46, BigInt64Array: 0x71, BigUint64Array: 0x51,
};

// The working arrays have no prototype: a store past their end or a read of a hole consults no
// element a user put on Array.prototype or Object.prototype (no setter or getter runs).
const workArray = () => Object.setPrototypeOf([], null);

// --- state of the current encode -----------------------------------------------------------
let buf = scratch;
let pos = 0;
let seen = workArray(); // objects by id (first-encounter order, as V8 numbers them)
let seenMap = null; // object -> id once there are many
let nextId = 0;
let depth = 0;
let units = 0; // string code units written (keys included)
let abBytes = 0; // ArrayBuffer bytes written
let hostPorts; // the transfer list's ports: `\` + index
let transferBuffers; // the transfer list's ArrayBuffers: `t` + index
// The numbers of the array being written while it may still be all numbers (no value is
// written in between, so one buffer serves nested arrays too).
let nums = new Float64Array(64);
const SMIS = 0; // every element so far a Smi, written `I`
const DOUBLES = 1; // every element so far a number, one not a Smi: all written `N`
const MIXED = 2; // not all numbers: each element written as itself

function ensure(n) {
  if (pos + n > buf.length) grow(pos, n);
}

// Makes room for n bytes at p (the bytes before p are kept; p stays valid).
function grow(p, n) {
  const want = p + n;
  if (want > 0x7fffffff) throw dataCloneError('the message is larger than 2 GiB');
  let cap = buf.length * 2;
  while (cap < want) cap *= 2;
  let next;
  if (big !== null && big !== buf && big.length >= want) next = big;
  else next = Buffer.allocUnsafeSlow(Math.min(cap, 0x7fffffff));
  buf.copy(next, 0, 0, p);
  buf = next;
  if (next.length <= KEEP_BIG) big = next;
}

function dataCloneError(message) {
  return new DOMException(message, 'DataCloneError');
}

// The hot writers take the write position and return the next one (a local, not the module's
// `pos`, which only the rarer writers use); each makes room for what it writes.
function putVarint(p, n) {
  // n is a non-negative integer below 2^32; room for 5 bytes is made by the caller.
  const b = buf;
  while (n >= 0x80) {
    b[p++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  b[p] = n;
  return p + 1;
}

function putDouble(p, v) {
  const b = buf;
  F64[0] = v;
  b[p] = F8[0];
  b[p + 1] = F8[1];
  b[p + 2] = F8[2];
  b[p + 3] = F8[3];
  b[p + 4] = F8[4];
  b[p + 5] = F8[5];
  b[p + 6] = F8[6];
  b[p + 7] = F8[7];
  return p + 8;
}

function writeVarint(n) {
  // n is a non-negative integer below 2^32.
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[pos++] = n;
}

function varintLength(n) {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

function writeDouble(v) {
  F64[0] = v;
  buf[pos] = F8[0];
  buf[pos + 1] = F8[1];
  buf[pos + 2] = F8[2];
  buf[pos + 3] = F8[3];
  buf[pos + 4] = F8[4];
  buf[pos + 5] = F8[5];
  buf[pos + 6] = F8[6];
  buf[pos + 7] = F8[7];
  pos += 8;
}

function writeNumber(v, p) {
  if (p + 11 > buf.length) grow(p, 11);
  if ((v | 0) === v && (v !== 0 || 1 / v > 0)) { // a Smi
    buf[p] = 0x49; // 'I': zigzag varint
    const z = ((v << 1) ^ (v >> 31)) >>> 0;
    if (z < 0x80) {
      buf[p + 1] = z;
      return p + 2;
    }
    return putVarint(p + 1, z);
  }
  buf[p] = 0x4e; // 'N'
  return putDouble(p + 1, v);
}

const NOT_ONE_BYTE = /[^\x00-\xff]/;

// (The limits are read where they are checked: a test lowers them.)
function tooManyUnits() {
  throw dataCloneError(`the message holds more than ${L.MAX_STRING_UNITS} string code units, ` +
                       'more than a receiver reads');
}

function writeString(s, p) {
  const n = s.length;
  units += n;
  if (units > L.MAX_STRING_UNITS) tooManyUnits();
  if (n < 48) {
    // One pass: write it one-byte, and start over as two-byte at the first unit over 0xFF.
    // Room for either form.
    if (p + 2 * n + 8 > buf.length) grow(p, 2 * n + 8);
    const b = buf;
    b[p] = 0x22; // '"'
    b[p + 1] = n;
    const q = p + 2;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0xff) break;
      b[q + i] = c;
    }
    if (i === n) return q + n;
  } else if (!NOT_ONE_BYTE.test(s)) {
    if (p + n + 6 > buf.length) grow(p, n + 6);
    buf[p] = 0x22; // '"'
    p = putVarint(p + 1, n);
    return p + buf.latin1Write(s, p, n);
  }
  // 'c': V8 pads with one 0x00 so the UTF-16 payload starts at an even offset.
  const byteLen = 2 * n;
  if (p + byteLen + 7 > buf.length) grow(p, byteLen + 7);
  const b = buf;
  if ((p + 1 + varintLength(byteLen)) & 1) b[p++] = 0x00;
  b[p] = 0x63;
  p = putVarint(p + 1, byteLen);
  if (n < 48) {
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      b[p++] = c & 0xff;
      b[p++] = c >>> 8;
    }
    return p;
  }
  return p + b.ucs2Write(s, p, byteLen);
}

// A property key: an array index (a canonical integer string up to 2^32-2) is written as the
// number V8 keeps it as (`I` up to 2^31-1, `N` above), any other key as a string.
function writeKey(k, p) {
  const c = k.charCodeAt(0);
  if (c >= 0x30 && c <= 0x39 && k.length <= 10 && (c !== 0x30 || k.length === 1)) {
    let n = 0;
    let i = 0;
    for (; i < k.length; i++) {
      const d = k.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) break;
      n = n * 10 + d;
    }
    if (i === k.length && n <= 4294967294) {
      if (p + 11 > buf.length) grow(p, 11);
      if (n <= 0x7fffffff) {
        buf[p] = 0x49;
        return putVarint(p + 1, (n * 2) >>> 0);
      }
      buf[p] = 0x4e;
      return putDouble(p + 1, n);
    }
  }
  return writeString(k, p);
}

function writeBigIntPayload(v) {
  const neg = v < 0n;
  const m = neg ? -v : v;
  if (m === 0n) {
    ensure(1);
    buf[pos++] = 0;
    return;
  }
  if (m < 0x10000000000000000n) {
    ensure(6 + 8);
    writeVarint(16 | (neg ? 1 : 0)); // 8 digit bytes << 1 | sign
    buf.writeBigUInt64LE(m, pos);
    pos += 8;
    return;
  }
  // Whole 64-bit digits, least significant first.
  const hex = m.toString(16);
  const words = Math.ceil(hex.length / 16);
  const bytes = words * 8;
  if (bytes > L.MAX_BIGINT_BYTES) {
    throw dataCloneError(`a BigInt of more than ${L.MAX_BIGINT_BYTES} bytes is more than a ` +
                         'receiver reads');
  }
  ensure(bytes + 6);
  writeVarint(((bytes * 2) | (neg ? 1 : 0)) >>> 0);
  for (let b = 0, e = hex.length; b < bytes; b++, e -= 2) {
    buf[pos++] = e >= 2 ? parseInt(hex.slice(e - 2, e), 16) : e === 1 ? parseInt(hex[0], 16) : 0;
  }
}

// --- objects ---------------------------------------------------------------------------------

function idOf(o) {
  if (seenMap !== null) {
    const id = seenMap.get(o);
    return id === undefined ? -1 : id;
  }
  for (let i = 0; i < nextId; i++) if (seen[i] === o) return i;
  return -1;
}

function register(o) {
  const id = nextId++;
  if (id >= L.MAX_OBJECTS) {
    throw dataCloneError(`the message holds more than ${L.MAX_OBJECTS} objects, more than a ` +
                         'receiver reads');
  }
  if (seenMap !== null) {
    seenMap.set(o, id);
  } else {
    seen[id] = o;
    if (nextId > MAX_SEEN_LINEAR) {
      seenMap = new Map();
      for (let i = 0; i < nextId; i++) seenMap.set(seen[i], i);
    }
  }
}

function writeValue(v, p) {
  switch (typeof v) {
    case 'number':
      return writeNumber(v, p);
    case 'string':
      return writeString(v, p);
    case 'boolean':
      if (p + 1 > buf.length) grow(p, 1);
      buf[p] = v ? 0x54 : 0x46;
      return p + 1;
    case 'undefined':
      if (p + 1 > buf.length) grow(p, 1);
      buf[p] = 0x5f;
      return p + 1;
    case 'bigint':
      pos = p;
      ensure(1);
      buf[pos++] = 0x5a; // 'Z'
      writeBigIntPayload(v);
      return pos;
    case 'object':
      if (v === null) {
        if (p + 1 > buf.length) grow(p, 1);
        buf[p] = 0x30;
        return p + 1;
      }
      return writeObject(v, p);
    default:
      throw GIVE_UP; // functions, symbols: V8 reports the DataCloneError
  }
}

function writeObject(o, p) {
  const id = idOf(o);
  if (id >= 0) {
    if (p + 6 > buf.length) grow(p, 6);
    buf[p] = 0x5e; // '^'
    return putVarint(p + 1, id);
  }
  if (isProxy(o)) throw GIVE_UP; // V8 refuses proxies
  if (++depth > MAX_DEPTH) throw GIVE_UP;
  if (Array.isArray(o)) {
    p = writeArray(o, p);
  } else {
    const proto = Object.getPrototypeOf(o);
    if (proto === ObjectProto) {
      if ('callee' in o) throw GIVE_UP; // an arguments object is not cloneable
      p = writePlainObject(o, p);
    } else if (proto === null) {
      if (Symbol.toStringTag in o) throw GIVE_UP; // a module namespace
      p = writePlainObject(o, p);
    } else {
      pos = p;
      writeOther(o);
      p = pos;
    }
  }
  depth--;
  return p;
}

function writePlainObject(o, p) {
  register(o);
  if (p + 1 > buf.length) grow(p, 1);
  buf[p++] = 0x6f; // 'o'
  let written = 0;
  // for-in, not Object.keys: V8 reads each property by its place in the hidden class (no
  // keys array, no keyed lookup). The keys are Object.keys' in the same order, snapshotted as
  // V8 snapshots them, plus any inherited enumerable ones, which hasOwn drops; a property a
  // getter deleted is skipped, as V8 skips it.
  for (const k in o) {
    if (!hasOwn.call(o, k)) continue;
    const v = o[k];
    // The common key (short, not an index, one-byte) in place; any other by writeKey.
    const n = k.length;
    const c0 = k.charCodeAt(0);
    if (n < 48 && (c0 > 0x39 || c0 < 0x30)) {
      if (p + 2 * n + 8 > buf.length) grow(p, 2 * n + 8);
      const b = buf;
      b[p] = 0x22; // '"'
      b[p + 1] = n;
      const q = p + 2;
      let i = 0;
      for (; i < n; i++) {
        const c = k.charCodeAt(i);
        if (c > 0xff) break;
        b[q + i] = c;
      }
      if (i === n) {
        units += n;
        if (units > L.MAX_STRING_UNITS) tooManyUnits();
        p = q + n;
      } else {
        p = writeString(k, p);
      }
    } else {
      // An arguments object whose `callee` was deleted: its first key is an index.
      if (written === 0 && isArgumentsObject(o)) throw GIVE_UP;
      p = writeKey(k, p);
    }
    p = writeValue(v, p);
    written++;
  }
  if (written === 0 && isArgumentsObject(o)) throw GIVE_UP; // nor has one without arguments
  if (p + 6 > buf.length) grow(p, 6);
  buf[p] = 0x7b; // '{'
  if (written < 0x80) {
    buf[p + 1] = written;
    return p + 2;
  }
  return putVarint(p + 1, written);
}

// `${i}` for small i: the last key of an array without holes or named properties.
const INDEX_KEYS = Array.from({ length: 256 }, (_, i) => `${i}`);

function writeArray(a, p) {
  const n = a.length;
  // Holes, extra named properties, or not extensible (frozen, sealed: not a fast elements
  // kind): V8 writes those (sparse, or with trailing properties). Checked before any element
  // is read, so no getter runs here before V8 runs it. Object.keys lists the element indices
  // in order, then the named properties: n keys of which the last is `${n - 1}` means every
  // element is present and no named property. (Object.keys of an array costs more than the
  // rest of a small array's write, but no other way sees its named properties.)
  if (n > 0) {
    const keys = Object.keys(a);
    if (keys.length !== n || keys[n - 1] !== (n <= 256 ? INDEX_KEYS[n - 1] : `${n - 1}`)) {
      throw GIVE_UP;
    }
  }
  if (!isExtensible(a)) throw GIVE_UP;
  register(a);
  if (p + 6 > buf.length) grow(p, 6);
  buf[p] = 0x41; // 'A'
  p = putVarint(p + 1, n);
  // Each element is read once, when it is written, as V8 reads it (a getter runs once). V8
  // writes an array of numbers with one non-Smi (PACKED_DOUBLE) all `N`, any other array
  // (PACKED_SMI, PACKED_ELEMENTS) each element as itself; which one it is shows only as the
  // elements are read, so the numbers read so far are kept and rewritten when it changes.
  const start = p;
  let mode = SMIS;
  for (let i = 0; i < n; i++) {
    const e = a[i];
    if (mode !== MIXED && typeof e === 'number') {
      if (i === nums.length) growNums();
      nums[i] = e;
      if (mode === SMIS && (e | 0) === e && (e !== 0 || 1 / e > 0)) {
        if (p + 6 > buf.length) grow(p, 6);
        const z = ((e << 1) ^ (e >> 31)) >>> 0;
        buf[p] = 0x49;
        if (z < 0x80) {
          buf[p + 1] = z;
          p += 2;
        } else {
          p = putVarint(p + 1, z);
        }
        continue;
      }
      if (mode === SMIS) { // the first non-Smi: every number so far becomes `N`
        mode = DOUBLES;
        p = start;
        if (p + 9 * i > buf.length) grow(p, 9 * i);
        for (let j = 0; j < i; j++) {
          buf[p] = 0x4e;
          p = putDouble(p + 1, nums[j]);
        }
      }
      if (p + 9 > buf.length) grow(p, 9);
      buf[p] = 0x4e;
      p = putDouble(p + 1, e);
      continue;
    }
    if (mode === DOUBLES) { // not all numbers after all: each number as itself
      p = start;
      for (let j = 0; j < i; j++) p = writeNumber(nums[j], p);
    }
    mode = MIXED;
    if (e === undefined && !(i in a)) {
      // Emptied by a getter during the write: V8 marks it a hole.
      if (p + 1 > buf.length) grow(p, 1);
      buf[p++] = 0x2d;
    } else {
      p = writeValue(e, p);
    }
  }
  if (p + 11 > buf.length) grow(p, 11);
  buf[p] = 0x24; // '$'
  buf[p + 1] = 0;
  return putVarint(p + 2, n);
}

function growNums() {
  const next = new Float64Array(2 * nums.length);
  next.set(nums);
  nums = next;
}

function writeOther(o) {
  if (ArrayBuffer.isView(o)) {
    writeView(o);
    return;
  }
  if (isDate(o)) {
    register(o);
    ensure(9);
    buf[pos++] = 0x44; // 'D'
    writeDouble(dateValue.call(o));
  } else if (isMap(o)) {
    register(o);
    // V8 snapshots the entries first (a getter may change the map while it is written).
    const ks = Array.from(MapKeys.call(o));
    const vs = Array.from(MapValues.call(o));
    ensure(1);
    buf[pos++] = 0x3b; // ';'
    for (let i = 0; i < ks.length; i++) {
      pos = writeValue(ks[i], pos);
      pos = writeValue(vs[i], pos);
    }
    ensure(6);
    buf[pos++] = 0x3a; // ':'
    writeVarint(2 * ks.length);
  } else if (isSet(o)) {
    register(o);
    const vs = Array.from(SetValues.call(o));
    ensure(1);
    buf[pos++] = 0x27; // "'"
    for (let i = 0; i < vs.length; i++) pos = writeValue(vs[i], pos);
    ensure(6);
    buf[pos++] = 0x2c; // ','
    writeVarint(vs.length);
  } else if (isArrayBuffer(o)) {
    writeArrayBuffer(o);
  } else if (hostPorts !== undefined && hostPorts.indexOf(o) >= 0) {
    register(o);
    ensure(6);
    buf[pos++] = 0x5c; // '\': a transferred port, by its index in the transfer list
    writeVarint(hostPorts.indexOf(o));
  } else if (isNumberObject(o)) {
    register(o);
    ensure(9);
    buf[pos++] = 0x6e; // 'n'
    writeDouble(numberValue.call(o));
  } else if (isBooleanObject(o)) {
    register(o);
    ensure(1);
    buf[pos++] = booleanValue.call(o) ? 0x79 : 0x78; // 'y' / 'x'
  } else if (isStringObject(o)) {
    register(o);
    ensure(1);
    buf[pos++] = 0x73; // 's'
    pos = writeString(stringValue.call(o), pos);
  } else if (isBigIntObject(o)) {
    register(o);
    ensure(1);
    buf[pos++] = 0x7a; // 'z'
    writeBigIntPayload(bigintValue.call(o));
  } else {
    // Class instances, RegExp, Error, SharedArrayBuffer, host objects...: V8 writes them.
    throw GIVE_UP;
  }
}

function chargeBytes(n) {
  abBytes += n;
  if (abBytes > L.MAX_BYTES) {
    throw dataCloneError(`the message holds more than ${L.MAX_BYTES} ArrayBuffer bytes, more ` +
                         'than a receiver reads');
  }
}

// An ArrayBuffer value (it takes an id, or is a back-reference).
function writeArrayBuffer(ab) {
  const id = idOf(ab);
  if (id >= 0) {
    ensure(6);
    buf[pos++] = 0x5e;
    writeVarint(id);
    return;
  }
  const t = transferBuffers === undefined ? -1 : transferBuffers.indexOf(ab);
  if (t >= 0) {
    chargeBytes(abByteLength.call(ab));
    register(ab);
    ensure(6);
    buf[pos++] = 0x74; // 't'
    writeVarint(t);
    return;
  }
  const n = abByteLength.call(ab);
  // Empty (maybe detached: V8 says which) and resizable buffers are V8's.
  if (n === 0 || abIsResizable.call(ab)) throw GIVE_UP;
  chargeBytes(n);
  register(ab);
  ensure(n + 6);
  buf[pos++] = 0x42; // 'B'
  writeVarint(n);
  buf.set(new Uint8Array(ab, 0, n), pos);
  pos += n;
}

function writeView(v) {
  const name = taTag.call(v);
  let tag;
  let ab;
  let offset;
  let length;
  if (name !== undefined) {
    tag = VIEW_TAG[name];
    ab = taBuffer.call(v);
    offset = taByteOffset.call(v);
    length = taByteLength.call(v);
  } else if (isDataView(v)) {
    tag = 0x3f; // '?'
    ab = dvBuffer.call(v);
    offset = dvByteOffset.call(v);
    length = dvByteLength.call(v);
  } else {
    throw GIVE_UP;
  }
  if (tag === undefined || Object.getPrototypeOf(ab) !== ArrayBuffer.prototype) throw GIVE_UP;
  // The buffer first (its own id, or a back-reference), then the view (the next id).
  writeArrayBuffer(ab);
  register(v);
  ensure(17);
  buf[pos++] = 0x56; // 'V'
  buf[pos++] = tag;
  writeVarint(offset);
  writeVarint(length);
  buf[pos++] = 0; // flags: not length-tracking, not backed by a resizable buffer
}

function reset() {
  if (seenMap !== null) seenMap = null;
  for (let i = 0; i < nextId && i < MAX_SEEN_LINEAR + 1; i++) seen[i] = undefined;
  if (seen.length > MAX_SEEN_LINEAR + 1) seen = workArray();
  nextId = 0;
  depth = 0;
  units = 0;
  abBytes = 0;
  hostPorts = undefined;
  transferBuffers = undefined;
  if (nums.length > 4096) nums = new Float64Array(64);
}

/**
 * Encodes `value` with the header, as `new v8.Serializer()` would with `ports` as host objects
 * (`\` + index) and `buffers` registered for transfer (`t` + index). Returns the byte length:
 * the bytes are `output()[0, length)` (the scratch buffer when they fit in it). Returns -1 when
 * the value needs V8's serializer. Throws a DataCloneError when the value exceeds what a
 * receiver reads, and whatever a getter of the value throws.
 */
function encode(value, ports, buffers) {
  buf = scratch;
  pos = 2;
  hostPorts = ports;
  transferBuffers = buffers;
  try {
    pos = writeValue(value, 2);
  } catch (err) {
    reset();
    if (err === GIVE_UP) return -1;
    if (err instanceof RangeError && /call stack/.test(err.message)) return -1;
    throw err;
  }
  reset();
  return pos;
}

/** The buffer the last `encode` wrote to. */
function output() {
  return buf;
}

module.exports = { encode, output, scratch, SCRATCH_SIZE };
