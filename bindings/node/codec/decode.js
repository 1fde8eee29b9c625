'use strict';
// The JS decoder of the wire format (V8 ValueSerializer, version 15): reads what
// `new v8.Deserializer()` reads (readHeader + readValue) for the common values, without a
// Deserializer object per message. On anything unusual (another version, a tag it does not
// handle, malformed or suspicious input) it gives up and the caller decodes the same bytes with
// V8, which also reports the errors; so decoding has no lasting side effect (adopting a large
// payload may move bytes within the message, and giving up moves them back).

/** Returned by `decode` when the bytes need V8's deserializer. */
const NOT_FAST = Symbol('not fast');
const GIVE_UP = Symbol('give up');
const MAX_DEPTH = 1000;

const F64 = new Float64Array(1);
const F8 = new Uint8Array(F64.buffer);
const hasOwn = Object.prototype.hasOwnProperty;
const mapSet = Map.prototype.set;
const setAdd = Set.prototype.add;

// View constructors by ArrayBufferView sub-tag.
const VIEWS = new Array(128).fill(undefined);
VIEWS[0x62] = Int8Array;
VIEWS[0x42] = Uint8Array;
VIEWS[0x43] = Uint8ClampedArray;
VIEWS[0x77] = Int16Array;
VIEWS[0x57] = Uint16Array;
VIEWS[0x64] = Int32Array;
VIEWS[0x44] = Uint32Array;
VIEWS[0x66] = Float32Array;
VIEWS[0x46] = Float64Array;
VIEWS[0x71] = BigInt64Array;
VIEWS[0x51] = BigUint64Array;
VIEWS[0x3f] = DataView;
if (typeof Float16Array === 'function') VIEWS[0x68] = Float16Array; // eslint-disable-line no-undef

let buf;
let pos = 0;
let end = 0;
let objs = []; // objects by id
let count = 0;
let depth = 0;
let ports = null;
let buffers = null;
const keys = []; // the string keys of the objects being read (a stack), to find duplicates
let keyTop = 0;
// Large ArrayBuffer payloads may be adopted rather than copied: `adopt(buf, offset, length)`
// returns an ArrayBuffer over those very bytes, or null (then they are copied). Adopting may
// move bytes already read within `buf`, so a decode that gives up after adopting calls
// `adoptUndo(buf)` before V8 reads the same bytes.
const ADOPT_MIN = 64 * 1024;
let adopt = null;
let adoptUndo = null;
let adopted = false;

/** Installs the adopter (index.js: the native addon's adoptBytes / adoptUndo). */
function setAdopter(fn, undo) {
  adopt = fn;
  adoptUndo = undo;
}

// V8 reads at most 5 bytes for a u32; anything but a canonical-width varint is left to V8.
function readVarint() {
  let b = buf[pos++];
  if (b < 0x80) return b;
  let n = b & 0x7f;
  for (let shift = 7; ; shift += 7) {
    if (pos >= end || shift > 28) throw GIVE_UP;
    b = buf[pos++];
    if (shift === 28) {
      if (b > 0x0f) throw GIVE_UP;
      return n + b * 0x10000000;
    }
    n |= (b & 0x7f) << shift;
    if (b < 0x80) return n >>> 0;
  }
}

function readTag() {
  while (pos < end) {
    const t = buf[pos++];
    if (t !== 0) return t;
  }
  throw GIVE_UP;
}

function peekTag() {
  while (pos < end && buf[pos] === 0) pos++;
  if (pos >= end) throw GIVE_UP;
  return buf[pos];
}

function readDouble() {
  if (pos + 8 > end) throw GIVE_UP;
  F8[0] = buf[pos];
  F8[1] = buf[pos + 1];
  F8[2] = buf[pos + 2];
  F8[3] = buf[pos + 3];
  F8[4] = buf[pos + 4];
  F8[5] = buf[pos + 5];
  F8[6] = buf[pos + 6];
  F8[7] = buf[pos + 7];
  pos += 8;
  const v = F64[0];
  // V8 reads a double as a Number: a Smi when it is one (an int32, not -0), and every NaN as the
  // canonical NaN.
  if ((v | 0) === v && (v !== 0 || 1 / v > 0)) return v | 0;
  return v === v ? v : NaN;
}

function readLength() {
  if (pos >= end) throw GIVE_UP;
  const n = readVarint();
  if (n > end - pos) throw GIVE_UP;
  return n;
}

// Short one-byte strings (keys, mostly) are taken from a small cache: no new string to build
// and, for a key, none to internalize again.
const CACHE_MAX = 32;
const cache = new Array(1024).fill('');

function readOneByte() {
  const n = readLength();
  const start = pos;
  pos += n;
  if (n > CACHE_MAX) return buf.latin1Slice(start, pos);
  let h = n;
  for (let i = start; i < pos; i++) h = Math.imul(h ^ buf[i], 0x01000193);
  const slot = (h ^ (h >>> 15)) & 1023;
  const c = cache[slot];
  if (c.length === n) {
    let i = 0;
    while (i < n && c.charCodeAt(i) === buf[start + i]) i++;
    if (i === n) return c;
  }
  const s = n < 8 ? String.fromCharCode.apply(null, buf.subarray(start, pos)) : buf.latin1Slice(start, pos);
  cache[slot] = s;
  return s;
}

function readTwoByte() {
  const n = readLength();
  if (n & 1) throw GIVE_UP;
  const start = pos;
  pos += n;
  return buf.ucs2Slice(start, pos);
}

function readBigInt() {
  const bits = readVarint();
  const len = bits >>> 1;
  const neg = (bits & 1) === 1;
  if (len > end - pos) throw GIVE_UP;
  if (len === 0) {
    if (neg) throw GIVE_UP;
    return 0n;
  }
  if (len & 7) throw GIVE_UP;
  let m;
  if (len === 8) {
    m = buf.readBigUInt64LE(pos);
  } else {
    let hex = '';
    for (let i = pos + len - 1; i >= pos; i--) hex += (buf[i] < 16 ? '0' : '') + buf[i].toString(16);
    m = BigInt(`0x${hex}`);
  }
  pos += len;
  if (m === 0n && neg) throw GIVE_UP;
  return neg ? -m : m;
}

function readValue() {
  const t = readTag();
  switch (t) {
    case 0x49: { // 'I'
      if (pos >= end) throw GIVE_UP;
      const z = readVarint();
      return (z >>> 1) ^ -(z & 1);
    }
    case 0x22: return readOneByte(); // '"'
    case 0x6f: return readObject(); // 'o'
    case 0x41: return readDenseArray(); // 'A'
    case 0x63: return readTwoByte(); // 'c'
    case 0x4e: return readDouble(); // 'N'
    case 0x54: return true;
    case 0x46: return false;
    case 0x5f: return undefined;
    case 0x30: return null;
    case 0x5e: { // '^'
      if (pos >= end) throw GIVE_UP;
      const id = readVarint();
      if (id >= count) throw GIVE_UP;
      return maybeView(objs[id]);
    }
    case 0x55: // 'U'
      if (pos >= end) throw GIVE_UP;
      return readVarint();
    case 0x5a: return readBigInt(); // 'Z'
    case 0x44: return register(new Date(readDouble())); // 'D'
    case 0x61: return readSparseArray(); // 'a'
    case 0x3b: return readMap(); // ';'
    case 0x27: return readSet(); // "'"
    case 0x42: { // 'B'
      const id = reserve();
      const n = readLength();
      let ab = null;
      if (n >= ADOPT_MIN && adopt !== null) {
        ab = adopt(buf, pos, n);
        if (ab !== null) adopted = true;
      }
      if (ab === null) {
        const o = buf.byteOffset + pos;
        ab = buf.buffer.slice(o, o + n);
      }
      pos += n;
      return maybeView(define(id, ab));
    }
    case 0x74: { // 't': a transferred ArrayBuffer
      const id = reserve();
      if (pos >= end) throw GIVE_UP;
      const i = readVarint();
      if (buffers === null || i >= buffers.length) throw GIVE_UP;
      return maybeView(define(id, buffers[i]));
    }
    case 0x5c: { // '\': a transferred port
      const id = reserve();
      if (pos >= end) throw GIVE_UP;
      const i = readVarint();
      if (ports === null || i >= ports.length) throw GIVE_UP;
      return define(id, ports[i]);
    }
    case 0x79: return register(Object(true)); // 'y'
    case 0x78: return register(Object(false)); // 'x'
    case 0x6e: return register(Object(readDouble())); // 'n'
    case 0x7a: return register(Object(readBigInt())); // 'z'
    case 0x73: { // 's'
      const id = reserve();
      const u = readTag();
      let s;
      if (u === 0x22) s = readOneByte();
      else if (u === 0x63) s = readTwoByte();
      else throw GIVE_UP;
      return define(id, Object(s));
    }
    default:
      throw GIVE_UP;
  }
}

function reserve() {
  objs[count] = undefined;
  return count++;
}

function define(id, o) {
  objs[id] = o;
  return o;
}

function register(o) {
  objs[count++] = o;
  return o;
}

// An ArrayBuffer followed by `V` is the buffer of a view, and the view is the value.
function maybeView(v) {
  if (!(v instanceof ArrayBuffer) || pos >= end) return v;
  let p = pos;
  while (p < end && buf[p] === 0) p++;
  if (p >= end || buf[p] !== 0x56) return v;
  pos = p + 1;
  const id = reserve();
  if (pos + 4 > end) throw GIVE_UP;
  const sub = buf[pos++];
  const Ctor = sub < 0x80 ? VIEWS[sub] : undefined;
  if (Ctor === undefined) throw GIVE_UP;
  const offset = readVarint();
  if (pos >= end) throw GIVE_UP;
  const length = readVarint();
  if (pos >= end) throw GIVE_UP;
  const flags = readVarint();
  if ((flags & 3) !== 0) throw GIVE_UP; // length-tracking / resizable: V8's
  const size = v.byteLength;
  if (offset > size || length > size - offset) throw GIVE_UP;
  if (Ctor === DataView) return define(id, new DataView(v, offset, length));
  const each = Ctor.BYTES_PER_ELEMENT;
  if (offset % each !== 0 || length % each !== 0) throw GIVE_UP;
  return define(id, new Ctor(v, offset, length / each));
}

function enter() {
  if (++depth > MAX_DEPTH) throw GIVE_UP;
}

// Properties until `endTag`; returns how many were read. Like V8, a key is a number or a string,
// and a key read twice is an error (left to V8).
function readProperties(o, endTag) {
  const base = keyTop;
  let n = 0;
  let numbers = false; // a number key may repeat a string key: then hasOwn decides
  for (;;) {
    if (peekTag() === endTag) {
      pos++;
      keyTop = base;
      return n;
    }
    const k = readValue();
    const v = readValue();
    if (typeof k === 'string' && n < 16 && !numbers) {
      // A duplicate key is V8's error: compare with this object's keys so far.
      if (k === '__proto__') throw GIVE_UP;
      for (let i = base; i < keyTop; i++) if (keys[i] === k) throw GIVE_UP;
      keys[keyTop++] = k;
    } else if (typeof k === 'string' || typeof k === 'number') {
      if (k === '__proto__' || hasOwn.call(o, k)) throw GIVE_UP;
      numbers = true;
    } else {
      throw GIVE_UP;
    }
    o[k] = v;
    n++;
  }
}

function readObject() {
  enter();
  const o = register({});
  const n = readProperties(o, 0x7b);
  if (pos >= end || readVarint() !== n) throw GIVE_UP;
  depth--;
  return o;
}

function readDenseArray() {
  enter();
  const n = readLength();
  const a = register(new Array(n));
  for (let i = 0; i < n; i++) {
    if (peekTag() === 0x2d) { // '-': a hole
      pos++;
      continue;
    }
    a[i] = readValue();
  }
  // Trailing named properties are V8's to read.
  if (readTag() !== 0x24 || pos >= end || readVarint() !== 0 || pos >= end ||
      readVarint() !== n) {
    throw GIVE_UP;
  }
  depth--;
  return a;
}

function readSparseArray() {
  enter();
  if (pos >= end) throw GIVE_UP;
  const n = readVarint();
  const a = register([]);
  a.length = n;
  let props = 0;
  for (;;) {
    if (peekTag() === 0x40) { // '@'
      pos++;
      break;
    }
    const k = readValue();
    // Only element keys; named properties (and their quirks) are V8's.
    if (typeof k !== 'number' || !(k >= 0 && k <= 4294967294 && Math.floor(k) === k)) {
      throw GIVE_UP;
    }
    const v = readValue();
    if (k in a) throw GIVE_UP;
    a[k] = v;
    props++;
  }
  if (pos >= end || readVarint() !== props || pos >= end || readVarint() !== n) throw GIVE_UP;
  depth--;
  return a;
}

function readMap() {
  enter();
  const m = register(new Map());
  let n = 0;
  for (;;) {
    if (peekTag() === 0x3a) { // ':'
      pos++;
      break;
    }
    const k = readValue();
    const v = readValue();
    mapSet.call(m, k, v);
    n += 2;
  }
  if (pos >= end || readVarint() !== n) throw GIVE_UP;
  depth--;
  return m;
}

function readSet() {
  enter();
  const s = register(new Set());
  let n = 0;
  for (;;) {
    if (peekTag() === 0x2c) { // ','
      pos++;
      break;
    }
    setAdd.call(s, readValue());
    n++;
  }
  if (pos >= end || readVarint() !== n) throw GIVE_UP;
  depth--;
  return s;
}

function reset() {
  for (let i = 0; i < count; i++) objs[i] = undefined;
  if (objs.length > 1024) objs = [];
  count = 0;
  depth = 0;
  for (let i = 0; i < keyTop; i++) keys[i] = undefined;
  keyTop = 0;
  ports = null;
  buffers = null;
  buf = undefined;
  adopted = false;
}

/**
 * Decodes the message in `bytes[start, end)` (a Buffer) as `new v8.Deserializer()` would, with
 * `portList` for host objects (`\` + index) and `bufferList` for transferred ArrayBuffers
 * (`t` + index), each an array or null. Returns the value, or NOT_FAST when V8 must read it.
 * Like V8, bytes after the value are ignored.
 */
function decode(bytes, start, stop, portList, bufferList) {
  if (stop - start < 3 || bytes[start] !== 0xff || bytes[start + 1] !== 0x0f) return NOT_FAST;
  buf = bytes;
  pos = start + 2;
  end = stop;
  ports = portList;
  buffers = bufferList;
  let v;
  try {
    v = readValue();
  } catch (err) {
    // GIVE_UP, or anything the bytes made JS throw (a stack overflow...): V8 reads them again
    // and reports the error, if any, as it would have.
    if (adopted) adoptUndo(buf);
    reset();
    return NOT_FAST;
  }
  reset();
  return v;
}

module.exports = { decode, NOT_FAST, setAdopter };
