// Golden vectors for the structured-clone codec, produced by the real V8 in Node.
//
// Usage: node tests/vectors/generate.mjs [out.json]   (stdout when no file is given)
//
// Each vector: the bytes V8 writes for a JS value (`new v8.Serializer()` + writeHeader +
// writeValue, or `v8.serialize()` for mode "node"), plus a JSON description of the value graph
// that the Rust test builds and compares with what it decodes. Keep the output deterministic:
// no real stack traces, no pooled Buffers in plain mode.

import v8 from 'node:v8';
import fs from 'node:fs';
import { MessageChannel } from 'node:worker_threads';

// ---- describing a JS value as a graph ----

function str(s) {
  return s.isWellFormed() ? { s } : { u: Array.from({ length: s.length }, (_, i) => s.charCodeAt(i)) };
}

function num(n) {
  if (Object.is(n, -0)) return '-0';
  return String(n); // NaN, Infinity, -Infinity, or a round-tripping decimal
}

const isIndex = (k) => /^(0|[1-9][0-9]*)$/.test(k) && Number(k) <= 4294967294;

function isLengthTracking(view) {
  const b = view.buffer;
  if (!b.resizable || b.maxByteLength === b.byteLength) return false;
  const before = view.byteLength;
  b.resize(b.byteLength + 1);
  const tracking = view.byteLength !== before;
  b.resize(b.byteLength - 1);
  return tracking;
}

function describe(root, ctx) {
  const ids = new Map();
  const objects = [];
  const value = (v) => {
    switch (typeof v) {
      case 'undefined': return { t: 'undefined' };
      case 'boolean': return { t: 'bool', v };
      case 'number': return { t: 'number', v: num(v) };
      case 'bigint': return { t: 'bigint', v: String(v) };
      case 'string': return { t: 'string', ...str(v) };
      case 'object':
        if (v === null) return { t: 'null' };
        return { t: 'ref', id: object(v) };
      default: throw new Error('cannot describe ' + typeof v);
    }
  };
  const props = (o, skipIndices) =>
    Object.keys(o).filter((k) => !(skipIndices && isIndex(k))).map((k) => [str(k), value(o[k])]);
  const object = (o) => {
    if (ids.has(o)) return ids.get(o);
    // A view's buffer comes first, as on the wire.
    if (ArrayBuffer.isView(o) && ctx.mode === 'plain') object(o.buffer);
    const id = objects.length;
    ids.set(o, id);
    objects.push(null);
    objects[id] = describeObject(o);
    return id;
  };
  const describeObject = (o) => {
    const tag = Object.prototype.toString.call(o);
    if (ctx.ports && ctx.ports.includes(o)) return { k: 'Port', index: ctx.ports.indexOf(o) };
    if (Array.isArray(o)) {
      const length = o.length;
      let dense = true;
      for (let i = 0; i < length; i++) if (!Object.hasOwn(o, i)) { dense = false; break; }
      const d = { k: 'Array', length, dense };
      if (dense) d.elements = Array.from(o, value);
      else d.entries = Object.keys(o).filter(isIndex).map((k) => [Number(k), value(o[k])]);
      d.props = props(o, true);
      return d;
    }
    if (o instanceof Error) {
      const e = { k: 'Error', name: ['EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError'].includes(o.name) ? o.name : 'Error' };
      const md = Object.getOwnPropertyDescriptor(o, 'message');
      if (md && 'value' in md) e.message = str(String(md.value));
      if (typeof o.stack === 'string') e.stack = str(o.stack);
      const cd = Object.getOwnPropertyDescriptor(o, 'cause');
      if (cd && 'value' in cd) e.cause = value(cd.value);
      return e;
    }
    if (tag === '[object Boolean]') return { k: 'Boolean', v: o.valueOf() };
    if (tag === '[object Number]') return { k: 'Number', v: num(o.valueOf()) };
    if (tag === '[object BigInt]') return { k: 'BigInt', v: String(o.valueOf()) };
    if (tag === '[object String]') return { k: 'String', ...str(o.valueOf()) };
    if (o instanceof Date) return { k: 'Date', v: num(o.getTime()) };
    if (o instanceof RegExp) return { k: 'RegExp', source: str(o.source), flags: o.flags };
    if (o instanceof ArrayBuffer) {
      if (ctx.transfer && ctx.transfer.includes(o)) return { k: 'ArrayBuffer', transferred: ctx.transfer.indexOf(o) };
      return { k: 'ArrayBuffer', hex: Buffer.from(o).toString('hex'), max: o.resizable ? o.maxByteLength : null };
    }
    if (ArrayBuffer.isView(o)) {
      const type = o instanceof DataView ? 'DataView' : o[Symbol.toStringTag];
      if (ctx.mode === 'node') {
        // v8.serialize copies only the view's bytes into a fresh buffer of its own.
        const bytes = Buffer.from(o.buffer, o.byteOffset, o.byteLength).toString('hex');
        const bid = objects.length;
        objects.push({ k: 'ArrayBuffer', hex: bytes, max: null });
        return { k: 'View', type, buffer: bid, offset: 0, length: o.byteLength, tracking: false };
      }
      const tracking = isLengthTracking(o);
      return { k: 'View', type, buffer: ids.get(o.buffer), offset: o.byteOffset, length: tracking ? 0 : o.byteLength, tracking };
    }
    if (o instanceof Map) return { k: 'Map', entries: Array.from(o, ([a, b]) => [value(a), value(b)]) };
    if (o instanceof Set) return { k: 'Set', values: Array.from(o, value) };
    return { k: 'Object', props: props(o, false) };
  };
  const r = value(root);
  return { root: r, objects };
}

// ---- serializing ----

function plain(v, { transfer = [], ports = [] } = {}) {
  class S extends v8.Serializer {
    _writeHostObject(o) {
      const i = ports.indexOf(o);
      if (i < 0) throw new Error('host object not in the port list');
      this.writeUint32(i);
    }
  }
  const s = new S();
  transfer.forEach((ab, i) => s.transferArrayBuffer(i, ab));
  s.writeHeader();
  s.writeValue(v);
  return s.releaseBuffer();
}

// ---- the values ----

const vectors = [];
function add(name, make, opts = {}) {
  const mode = opts.mode ?? 'plain';
  const v = make();
  const ctx = { mode, transfer: opts.transfer?.(v), ports: opts.ports?.(v) };
  const bytes = mode === 'node' ? v8.serialize(v) : plain(v, { transfer: ctx.transfer, ports: ctx.ports });
  const graph = describe(v, ctx);
  const entry = { name, mode, hex: bytes.toString('hex'), graph };
  // V8 picked a wire form from its internal representation (e.g. a double-backed 1 as `N`):
  // readable, but not what a canonical writer produces for the value.
  if (opts.noncanonical) entry.noncanonical = opts.noncanonical;
  if (ctx.transfer) entry.transfer_buffers = ctx.transfer.map((ab) => Buffer.from(ab).toString('hex'));
  if (ctx.ports) entry.ports = ctx.ports.length;
  vectors.push(entry);
  if (ctx.ports) for (const p of ctx.ports) p.close();
}

const noStack = (e) => { Object.defineProperty(e, 'stack', { value: undefined, writable: true, configurable: true }); return e; };
const withStack = (e, s) => { Object.defineProperty(e, 'stack', { value: s, writable: true, configurable: true }); return e; };

// Primitives and numbers
add('undefined', () => undefined);
add('null', () => null);
add('true', () => true);
add('false', () => false);
for (const [n, v] of [['0', 0], ['-0', -0], ['1', 1], ['-1', -1], ['1.5', 1.5], ['NaN', NaN], ['Infinity', Infinity],
  ['-Infinity', -Infinity], ['2**31', 2 ** 31], ['2**31-1', 2 ** 31 - 1], ['-(2**31)', -(2 ** 31)], ['-(2**31)-1', -(2 ** 31) - 1],
  ['2**30', 2 ** 30], ['2**53', 2 ** 53], ['MAX_VALUE', Number.MAX_VALUE], ['MIN_VALUE', Number.MIN_VALUE], ['1e21', 1e21],
  ['0.1', 0.1], ['-123456', -123456], ['63', 63], ['64', 64], ['-64', -64], ['-65', -65], ['8192', 8192]]) {
  add('number ' + n, () => v);
}
// BigInt signs and sizes
for (const [n, v] of [['0n', 0n], ['1n', 1n], ['-1n', -1n], ['2n**63n', 2n ** 63n], ['2n**64n-1n', 2n ** 64n - 1n], ['2n**64n', 2n ** 64n],
  ['-(2n**64n)', -(2n ** 64n)], ['-(2n**70n)', -(2n ** 70n)], ['10n**40n', 10n ** 40n], ['2n**200n', 2n ** 200n], ['-(2n**127n)', -(2n ** 127n)]]) {
  add('bigint ' + n, () => v);
}
// Strings
for (const [n, v] of [['empty', ''], ['abc', 'abc'], ['e-acute latin1', 'é'], ['y-umlaut 0xff', 'ÿ'], ['euro two-byte', '€'],
  ['emoji pair', '😀'], ['lone high surrogate', '\uD800'], ['lone low surrogate', '\uDC00'], ['NUL inside', 'a\u0000b'],
  ['U+0100', '\u0100'], ['ascii 200', 'x'.repeat(200)], ['two-byte 100', '€'.repeat(100)], ['latin1 300', 'é'.repeat(300)],
  ['mixed', 'aé€😀\uD800z']]) {
  add('string ' + n, () => v);
}
// Two-byte padding
add('padding {a:😀} none', () => ({ a: '😀' }));
add('padding {ab:😀} one', () => ({ ab: '😀' }));
add('padding [€]', () => ['€']);
add('padding [a, €]', () => ['a', '€']);
add('padding [1, €, €]', () => [1, '€', '€']);
add('padding two-byte key', () => ({ '€': 1 }));
add('padding two-byte key and value', () => ({ '€€': '€', x: '😀' }));
add('padding long two-byte (2-byte varint)', () => ({ k: '€'.repeat(70) }));
add('padding String object two-byte', () => [new String('€')]);
// Objects and keys
add('object empty', () => ({}));
add('object {a:1}', () => ({ a: 1 }));
add('object {a:1,b:2}', () => ({ a: 1, b: 2 }));
add('object numeric key', () => ({ 1: 'x', b: 2 }));
add('object non-index numeric-like keys', () => ({ '-1': 0, '4294967295': 0 }));
add('object index key > Smi', () => ({ '2147483648': 0 }));
add('object largest index key', () => ({ '4294967294': 0 }));
add('object 1.5 and -0 keys', () => ({ '1.5': 0, '-0': 0 }));
add('object leading-zero key', () => ({ '01': 0, '0': 1 }));
add('object index keys first ascending', () => ({ b: 1, 2: 0, a: 2, 1: 0 }));
add('object nested', () => ({ a: { b: true } }));
add('object cyclic', () => { const o = {}; o.a = o; return o; });
add('object __proto__ own key', () => JSON.parse('{"__proto__":1}'));
add('object undefined value', () => ({ u: undefined, n: null }));
add('object lone-surrogate key', () => ({ ['\uD800']: 1 }));
add('object null prototype', () => { const o = Object.create(null); o.x = 1; return o; });
add('object class instance', () => new (class C { constructor() { this.y = 2; } })());
add('object symbol key dropped', () => ({ a: 1, [Symbol('s')]: 2 }));
add('object non-enumerable dropped', () => Object.defineProperty({ a: 1 }, 'h', { value: 2, enumerable: false }));
add('object getter becomes data', () => ({ get x() { return 5; } }));
add('object deep 64', () => { let o = { leaf: 1 }; for (let i = 0; i < 64; i++) o = { o }; return o; });
add('object record', () => ({ id: 1, name: 'alice', tags: [1, 2, 3] }));
add('object many keys', () => Object.fromEntries(Array.from({ length: 40 }, (_, i) => ['k' + i, i])));
// Arrays
add('array empty', () => []);
add('array [1,2]', () => [1, 2]);
add('array packed double', () => [1.5, 1], { noncanonical: 'a PACKED_DOUBLE array writes 1 as a double' });
add('array packed elements', () => ['a', {}]);
add('array holey [1,,3]', () => [1, , 3]);
add('array a[5]=x', () => { const a = []; a[5] = 'x'; return a; });
add('array with property', () => { const a = [1, 2]; a.p = 'q'; return a; });
add('array only hole', () => [, ]);
add('array undefined element', () => [undefined]);
add('array null and undefined', () => [null, undefined]);
add('array holey with properties', () => { const a = [1, , 3]; a.length = 10; a.foo = 1; return a; });
add('array self cycle', () => { const a = [0]; a[0] = a; return a; });
add('array nested', () => [[1], [2, [3]]]);
add('array max length sparse', () => { const a = []; a.length = 4294967295; return a; });
add('array last index', () => { const a = []; a[4294967294] = 'last'; return a; });
add('array sparse index > Smi', () => { const a = []; a[2147483648] = 1; return a; });
add('array of records', () => Array.from({ length: 3 }, (_, i) => ({ id: i, name: 'n' + i, tags: [1, 2, 3] })));
add('array strings', () => ['x', 'é', '€', '']);
// Shared references
add('shared [s,s]', () => { const s = { x: 1 }; return [s, s]; });
add('shared {x:s,y:s}', () => { const s = []; return { x: s, y: s }; });
add('shared map key in array', () => { const k = {}; return [k, new Map([[k, 1]])]; });
add('shared date twice', () => { const d = new Date(5); return [d, d]; });
add('shared regexp twice', () => { const r = /a/; return { r, s: r }; });
// Dates
for (const [n, t] of [['0', 0], ['NaN', NaN], ['max', 8.64e15], ['min', -8.64e15], ['2023', 1700000000123], ['-1', -1]]) {
  add('date ' + n, () => new Date(t));
}
// RegExps
add('regexp /a+/gi', () => /a+/gi);
add('regexp /x/dgimsuy', () => /x/dgimsuy);
add('regexp /x/v', () => /x/v);
add('regexp latin1 source', () => /[é]/);
add('regexp two-byte source', () => /€/u);
add('regexp empty', () => new RegExp(''));
add('regexp escaped slash', () => /\//);
add('regexp named group', () => /(?<n>a)\k<n>/);
// Map and Set
add('map [[1,2]]', () => new Map([[1, 2]]));
add('map empty', () => new Map());
add('map object keys', () => new Map([['a', {}], [{}, 'b']]));
add('map NaN key', () => new Map([[NaN, 1], [-0, 2]]), { noncanonical: 'Map values stored as HeapNumbers are written as doubles' });
add('map NaN key canonical', () => new Map([[NaN, 'x']]));
add('map self value', () => { const m = new Map(); m.set('me', m); return m; });
add('set [1]', () => new Set([1]));
add('set empty', () => new Set());
add('set mixed', () => new Set(['a', 1, 1n, null, undefined, '1']));
add('set self', () => { const s = new Set(); s.add(s); return s; });
add('map insertion order', () => new Map([['z', 1], ['a', 2], [3, 3]]));
// Wrappers
add('Boolean true', () => new Boolean(true));
add('Boolean false', () => new Boolean(false));
add('Number 1.5', () => new Number(1.5));
add('Number -0', () => new Number(-0));
add('Number NaN', () => new Number(NaN));
add('Number 1', () => new Number(1));
add('String ab', () => new String('ab'));
add('String empty', () => new String(''));
add('String two-byte', () => new String('€😀'));
add('BigInt object 1n', () => Object(1n));
add('BigInt object negative', () => Object(-(2n ** 64n)));
add('String object with extra property dropped', () => { const s = new String('a'); s.x = 1; return s; });
// ArrayBuffers
add('ArrayBuffer [7,8,9]', () => new Uint8Array([7, 8, 9]).buffer);
add('ArrayBuffer empty', () => new ArrayBuffer(0));
add('ArrayBuffer 300 bytes', () => Uint8Array.from({ length: 300 }, (_, i) => i & 255).buffer);
add('ArrayBuffer resizable', () => new ArrayBuffer(2, { maxByteLength: 4 }));
add('ArrayBuffer resizable full', () => new ArrayBuffer(3, { maxByteLength: 3 }));
add('ArrayBuffer twice', () => { const b = new ArrayBuffer(1); return [b, b]; });
// Views, native encoding
const kinds = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array];
for (const K of kinds) {
  const make = () => (K === BigInt64Array || K === BigUint64Array ? new K([1n, -1n & (2n ** 64n - 1n)].map((x) => (K === BigInt64Array ? BigInt.asIntN(64, x) : x))) : new K([1, 2, 3]));
  add('view ' + K.name, make);
  add('view ' + K.name + ' subarray', () => { const b = new ArrayBuffer(K.BYTES_PER_ELEMENT * 4); return new K(b, K.BYTES_PER_ELEMENT, 2); });
}
add('view DataView', () => new DataView(new ArrayBuffer(2)));
add('view DataView offset', () => new DataView(new ArrayBuffer(2), 1));
add('view DataView offset+length', () => new DataView(new Uint8Array([1, 2, 3, 4]).buffer, 1, 2));
add('view Uint8Array subarray(1,3)', () => new Uint8Array([1, 2, 3, 4]).subarray(1, 3));
add('view two views share a buffer', () => { const b = new ArrayBuffer(4); return [new Uint8Array(b), new Uint16Array(b)]; });
add('view same view twice', () => { const v = new Uint8Array(2); return [v, v]; });
add('view buffer then view', () => { const b = new ArrayBuffer(2); return [b, new Uint8Array(b)]; });
add('view view then buffer', () => { const b = new ArrayBuffer(2); return [new Uint8Array(b), b]; });
add('view length-tracking on resizable', () => new Uint8Array(new ArrayBuffer(2, { maxByteLength: 4 })));
add('view fixed on resizable', () => new Uint8Array(new ArrayBuffer(4, { maxByteLength: 8 }), 1, 2));
add('view empty', () => new Uint8Array(0));
add('view in object', () => ({ data: new Float64Array([1.5, -0]) }));
// Node v8.serialize() dialect (host-object views)
for (const K of kinds) {
  add('node ' + K.name, () => (K === BigInt64Array || K === BigUint64Array ? new K([1n, 2n]) : new K([1, 2])), { mode: 'node' });
}
add('node DataView', () => new DataView(new ArrayBuffer(2)), { mode: 'node' });
add('node Buffer', () => Buffer.from('abc'), { mode: 'node' });
add('node subarray', () => new Uint8Array([1, 2, 3, 4]).subarray(1, 3), { mode: 'node' });
add('node [v,v]', () => { const v = new Uint8Array([5]); return [v, v]; }, { mode: 'node' });
add('node record with bytes', () => ({ id: 1, bytes: new Uint8Array([1, 2]) }), { mode: 'node' });
add('node plain object', () => ({ a: [1, 'x'] }), { mode: 'node' });
// Errors (no real stacks: they hold file paths)
add('error Error(x) no stack', () => noStack(new Error('x')));
add('error stack string', () => withStack(new Error('m'), 'st'));
add('error TypeError cause no stack', () => noStack(new TypeError('y', { cause: 1 })));
for (const E of [EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError]) {
  add('error ' + E.name, () => withStack(new E('msg'), E.name + ': msg\n    at here'));
}
add('error no message', () => noStack(new Error()));
add('error two-byte message', () => noStack(new Error('€ failed')));
add('error two-byte stack', () => withStack(new Error('m'), 'Error: m\n    at €'));
add('error cause object', () => noStack(new Error('outer', { cause: { code: 7 } })));
add('error cause error', () => noStack(new Error('outer', { cause: noStack(new RangeError('inner')) })));
add('error custom name', () => { const e = noStack(new TypeError('n')); e.name = 'Foo'; return e; });
add('error subclass', () => noStack(new (class X extends RangeError {})('sub')));
add('error extra props dropped', () => { const e = noStack(new Error('p')); e.extra = 1; return e; });
add('error in object', () => ({ err: withStack(new Error('x'), 's') }));
add('error cause undefined', () => noStack(new Error('u', { cause: undefined })));
// Transfers (worker_threads emulation: transferred buffers as t + index)
add('transfer {b: ab}', () => ({ b: new ArrayBuffer(4) }), { transfer: (v) => [v.b] });
add('transfer view over transferred', () => new Uint8Array(new Uint8Array([1, 2, 3, 4]).buffer, 1, 2), { transfer: (v) => [v.buffer] });
add('transfer same buffer twice', () => { const b = new ArrayBuffer(1); return [b, b]; }, { transfer: (v) => [v[0]] });
add('transfer two buffers', () => [new Uint8Array([1]).buffer, new Uint8Array([2, 3]).buffer], { transfer: (v) => [v[1], v[0]] });
// MessagePorts as host objects (\ + index among transferred ports)
add('port {port}', () => ({ port: new MessageChannel().port1 }), { ports: (v) => [v.port] });
add('port two ports', () => [new MessageChannel().port1, new MessageChannel().port2], { ports: (v) => [v[1], v[0]] });
add('port same port twice', () => { const p = new MessageChannel().port1; return { a: p, b: p }; }, { ports: (v) => [v.a] });
add('port with buffer', () => ({ p: new MessageChannel().port1, ab: new ArrayBuffer(2) }), { ports: (v) => [v.p], transfer: (v) => [v.ab] });

const out = '{"vectors": [\n' + vectors.map((v) => JSON.stringify(v)).join(',\n') + '\n]}\n';
if (process.argv[2]) fs.writeFileSync(process.argv[2], out);
else process.stdout.write(out);
process.stderr.write(`${vectors.length} vectors\n`);
