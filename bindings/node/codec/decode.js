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
/** Thrown to read the message again in EAGER mode (a cycle through an object being built). */
const RETRY = Symbol('retry');
/** The id of an object or array whose contents are being read. */
const PENDING = Symbol('pending');
const MAX_DEPTH = 1000;

const F64 = new Float64Array(1);
const F8 = new Uint8Array(F64.buffer);
const hasOwn = Object.prototype.hasOwnProperty;
const defineProperty = Object.defineProperty;
const fromCharCode = String.fromCharCode;
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

// The working arrays have no prototype: a store past their end or a read of a hole consults no
// element a user put on Array.prototype or Object.prototype (no setter or getter runs).
const workArray = () => Object.setPrototypeOf([], null);

let buf;
let pos = 0;
let end = 0;
let objs = workArray(); // objects by id
let count = 0;
let depth = 0;
let ports = null;
let buffers = null;
let eager = false; // objects made before their contents (a message with a cycle through one)
// The keys and values of the objects being read, waiting to be built.
let keyStack = workArray();
let valStack = workArray();
let top = 0;
let high = 0; // the stacks' high-water mark in this decode, cleared after it
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
  let s;
  if (n < 12) {
    // Short: concatenated in JS (a flat string below 13 units) rather than a call into C++.
    s = '';
    for (let i = start; i < pos; i++) s += fromCharCode(buf[i]);
  } else {
    s = buf.latin1Slice(start, pos);
  }
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
  if (pos >= end) throw GIVE_UP;
  let t = buf[pos++];
  if (t === 0) t = readTag(); // padding
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
      const o = objs[id];
      if (o === PENDING) throw RETRY;
      return maybeView(o);
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

// Like V8, every property read is an own data property: a `__proto__` key is a property, not
// the prototype, and a setter on Object.prototype or Array.prototype never runs. An object is
// built after its contents are read: its keys and values wait on two stacks, and an object whose
// key list ("shape") was seen before is made by a literal compiled for that list (one
// allocation, one stable hidden class); an object that begins with the first key of such a list
// is read by that list's reader (compileReader), its values in locals rather than on the stacks.
// Its id is PENDING meanwhile: a back-reference to it (a cycle) makes the whole message be read
// again EAGERly, each object made before its contents.
function readObject() {
  if (eager) return readObjectEager();
  enter();
  const id = count++;
  objs[id] = PENDING;
  const base = top;
  let node = root;
  let first = null; // the shape after the first key
  // The common case: the first key is one whose objects were read whole before; that shape's
  // reader checks the remaining keys' bytes in place and makes the object.
  const t0 = pos < end ? buf[pos] : 0;
  if (t0 === 0x22 && root.inline !== 0) {
    const keys = root.nk;
    for (let j = 0; j < root.inline; j++) {
      if (keyHere(keys[j])) {
        first = root.nn[j];
        let hint = first.hint;
        if (hint !== null) {
          // The first value, then the reader of the last shape begun with this key; if its
          // second key differs, the one before's (objects of two shapes that share a first key,
          // as `id`, alternate in a stream).
          const v0 = readValue();
          let r = hint.read(base, v0);
          if (r === 1 && first.hint2 !== null) {
            hint = first.hint2;
            r = hint.read(base, v0);
          }
          if (typeof r !== 'number') {
            objs[id] = r;
            depth--;
            return r;
          }
          // Read r keys of it, their values now on the stack: go on one by one.
          node = hint.path[r];
          top = base + r;
          if (top > high) high = top; // what reset clears, should the rest give up
        } else {
          node = first;
          keyStack[top] = keys[j];
          top++;
          valStack[top - 1] = readValue();
        }
        break;
      }
    }
  }
  for (;;) {
    let t = pos < end ? buf[pos] : 0;
    if (t === 0) t = peekTag();
    if (t === 0x7b) { // '{'
      pos++;
      break;
    }
    let k;
    // The first keys seen after this shape, compared in place: no string read, no lookup.
    if (t === 0x22 && node !== null) {
      const keys = node.nk;
      for (let j = 0; j < node.inline; j++) {
        if (keyHere(keys[j])) {
          k = keys[j];
          node = node.nn[j];
          break;
        }
      }
    }
    if (k === undefined) {
      const key = readValue();
      if (typeof key === 'string') k = key;
      else if (typeof key === 'number') k = `${key}`;
      else throw GIVE_UP;
      if (node !== null) node = nextShape(node, k);
    }
    keyStack[top] = k;
    top++;
    valStack[top - 1] = readValue();
  }
  const n = top - base;
  if (pos >= end || readVarint() !== n) throw GIVE_UP;
  if (top > high) high = top;
  let o;
  if (node !== null && (node.make !== null || (++node.seen >= 2 && compileShape(node)))) {
    o = node.make(valStack, base);
    if (first !== null && node.read !== null && first.hint !== node) {
      first.hint2 = first.hint;
      first.hint = node;
    }
  } else {
    o = buildObject(base, n);
  }
  top = base;
  objs[id] = o;
  depth--;
  return o;
}

// A key keyHere can match: one-byte, with a one-byte varint length.
const NOT_ONE_BYTE_SHORT = /[^\x00-\xff]|^[^]{128}/;

// Whether the one-byte string at pos (its `"` tag) is `nk`; if so, moves past it.
function keyHere(nk) {
  const n = nk.length;
  const p = pos + 2;
  if (buf[pos + 1] !== n || n >= 0x80 || p + n > end) return false;
  for (let i = 0; i < n; i++) if (buf[p + i] !== nk.charCodeAt(i)) return false;
  pos = p + n;
  return true;
}

function buildObject(base, n) {
  const o = {};
  for (let i = base; i < base + n; i++) defineOwn(o, keyStack[i], valStack[i]);
  return o;
}

// Defines o[k] = v as an own data property; a key read twice is V8's error (left to V8).
function defineOwn(o, k, v) {
  if (!(k in o)) {
    o[k] = v; // nothing of that name on the prototype chain: no setter can run
  } else if (hasOwn.call(o, k)) {
    throw GIVE_UP;
  } else {
    defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  }
}

function defineElement(a, i, v) {
  if (!(i in a)) a[i] = v; // no element i on the prototype chain: no setter can run
  else defineProperty(a, i, { value: v, writable: true, enumerable: true, configurable: true });
}

function readObjectEager() {
  enter();
  const o = register({});
  let n = 0;
  for (;;) {
    if (peekTag() === 0x7b) {
      pos++;
      break;
    }
    const k = readValue();
    if (typeof k !== 'string' && typeof k !== 'number') throw GIVE_UP;
    defineOwn(o, k, readValue());
    n++;
  }
  if (pos >= end || readVarint() !== n) throw GIVE_UP;
  depth--;
  return o;
}

// A shape: a key list, its transitions by next key (the first INLINE ones also in two short
// arrays, compared in place), and the literal that makes its objects once it has been seen twice,
// with a reader (see compileReader); `hint` and `hint2`, on the shape of a first key, are the
// last two shapes of the objects that began with it.
const INLINE = 6;
class Shape {
  constructor(keys) {
    this.keys = keys;
    // Literals and stores into their own elements: no setter on Array.prototype can run.
    this.nk = ['', '', '', '', '', ''];
    this.nn = [null, null, null, null, null, null];
    this.inline = 0;
    this.next = null;
    this.make = null;
    this.seen = 0;
    this.read = null;
    this.path = null; // the shapes of this one's key prefixes, by length
    this.hint = null;
    this.hint2 = null;
  }
}
const MAX_SHAPES = 4096; // then the table starts over (a stream of ever new shapes)
const MAX_SHAPE_KEYS = 64; // larger objects are built property by property
let root = new Shape([]);
let shapes = 0;
let canCompile = true; // false when code generation from strings is disallowed

function nextShape(node, k) {
  let s = node.next === null ? undefined : node.next.get(k);
  if (s === undefined) {
    if (node.keys.length >= MAX_SHAPE_KEYS || node.keys.includes(k)) return null;
    if (++shapes > MAX_SHAPES) {
      root = new Shape([]);
      shapes = 0;
      return null;
    }
    s = new Shape(node.keys.concat(k));
    if (node.next === null) node.next = new Map();
    node.next.set(k, s);
    // Only one-byte keys are compared in place (keyHere reads a `"` string).
    if (node.inline < INLINE && !NOT_ONE_BYTE_SHORT.test(k)) {
      node.nk[node.inline] = k;
      node.nn[node.inline] = s;
      node.inline++;
    }
  }
  return s;
}

// `(s, b) => ({"k0": s[b], "k1": s[b + 1], ...})`: a literal defines own data properties; only
// `__proto__` must be a computed key to be one.
function compileShape(node) {
  if (!canCompile) return false;
  let src = 'return {';
  for (let i = 0; i < node.keys.length; i++) {
    const k = node.keys[i];
    if (k.length > 64) return false;
    const name = JSON.stringify(k);
    src += `${k === '__proto__' ? `[${name}]` : name}: s[b + ${i}],`;
  }
  try {
    node.make = new Function('s', 'b', `${src}};`); // eslint-disable-line no-new-func
  } catch {
    canCompile = false;
    return false;
  }
  compileReader(node);
  return true;
}

// A shape's reader, called with its first value read and pos just past it: for each further
// key checks its bytes in place (a `"` string of that length and those units; V8 writes no
// padding before one) and reads its value into a local, then checks the `{` and count and makes
// the object with one literal. At the first bytes that differ it puts the keys and values read
// so far on the stacks at `base` and returns how many (readObject goes on from that prefix's
// shape), so any message reads as the generic loop reads it.
const INDEX_KEY = /^(?:0|[1-9][0-9]*)$/;

function compileReader(node) {
  const keys = node.keys;
  const n = keys.length;
  if (n === 0) return;
  // A prototype-less array: a store into it runs no setter a user put on Array.prototype.
  const path = workArray();
  path[0] = root;
  for (let i = 0; i < n; i++) {
    const k = keys[i];
    // Keys read as numbers, or that keyHere could not match, stay with the generic loop.
    if (NOT_ONE_BYTE_SHORT.test(k) || INDEX_KEY.test(k)) return;
    const next = path[i].next === null ? undefined : path[i].next.get(k);
    if (next === undefined) return; // the table started over meanwhile
    path[i + 1] = next;
  }
  if (path[n] !== node) return;
  const spill = (r) => {
    let out = '';
    for (let j = 0; j < r; j++) out += `keyStack[b + ${j}] = K[${j}]; valStack[b + ${j}] = v${j}; `;
    return `${out}return ${r};`;
  };
  let src = '(function (K) { "use strict"; return function (b, v0) {\nlet p;\n';
  for (let i = 1; i < n; i++) {
    const k = keys[i];
    let test = `p + ${2 + k.length} > end || buf[p] !== 0x22 || buf[p + 1] !== ${k.length}`;
    for (let c = 0; c < k.length; c++) test += ` || buf[p + ${2 + c}] !== ${k.charCodeAt(c)}`;
    src += `p = pos;\nif (${test}) { ${spill(i)} }\npos = p + ${2 + k.length};\n`;
    src += `const v${i} = readValue();\n`;
  }
  src += `p = pos;\nif (p + 2 > end || buf[p] !== 0x7b || buf[p + 1] !== ${n}) { ${spill(n)} }\n`;
  src += 'pos = p + 2;\nreturn {';
  for (let i = 0; i < n; i++) {
    const name = JSON.stringify(keys[i]);
    src += `${keys[i] === '__proto__' ? `[${name}]` : name}: v${i}, `;
  }
  src += '};\n}; })';
  let read;
  try {
    read = evalHere(src)(keys.slice());
  } catch {
    canCompile = false;
    return;
  }
  node.path = path;
  node.read = read;
}

// A dense array is made first (HOLEY, as V8 reads it, so V8 writes it again sparse) and filled
// in place: a literal would need its length cut to be HOLEY, which costs more than it saves.
function readDenseArray() {
  enter();
  const n = readLength();
  const a = register(new Array(n));
  for (let i = 0; i < n; i++) {
    let t = pos < end ? buf[pos] : 0;
    if (t === 0) t = peekTag();
    if (t === 0x2d) { // '-': a hole
      pos++;
      continue;
    }
    defineElement(a, i, readValue());
  }
  // Trailing named properties are V8's to read. The common `$ 0 n`, n < 128, in one check.
  if (n < 0x80 && pos + 3 <= end && buf[pos] === 0x24 && buf[pos + 1] === 0 &&
      buf[pos + 2] === n) {
    pos += 3;
  } else if (readTag() !== 0x24 || pos >= end || readVarint() !== 0 || pos >= end ||
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
  if (objs.length > 1024) objs = workArray();
  count = 0;
  depth = 0;
  for (let i = 0; i < high; i++) {
    keyStack[i] = undefined;
    valStack[i] = undefined;
  }
  if (high > 4096) {
    keyStack = workArray();
    valStack = workArray();
  }
  top = 0;
  high = 0;
  eager = false;
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
  const v = attempt(bytes, start, stop, portList, bufferList, false);
  return v === RETRY ? attempt(bytes, start, stop, portList, bufferList, true) : v;
}

function attempt(bytes, start, stop, portList, bufferList, eagerly) {
  buf = bytes;
  pos = start + 2;
  end = stop;
  ports = portList;
  buffers = bufferList;
  eager = eagerly;
  let v;
  try {
    v = readValue();
  } catch (err) {
    // GIVE_UP, or anything the bytes made JS throw (a stack overflow...): V8 reads them again
    // and reports the error, if any, as it would have. RETRY: read them again eagerly.
    if (adopted) adoptUndo(buf);
    reset();
    return err === RETRY ? RETRY : NOT_FAST;
  }
  reset();
  return v;
}

module.exports = { decode, NOT_FAST, setAdopter };

// A direct eval, so a reader sees this module's state (buf, pos, end, readValue, the stacks).
function evalHere(src) {
  return eval(src); // eslint-disable-line no-eval
}
