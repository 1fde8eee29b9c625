'use strict';
// The JS codec (bindings/node/codec.js) against V8 itself: on generated values of every shape
// our bytes must be V8's bytes, byte for byte, and our decoder must read V8's bytes (and ours)
// as V8 reads them; the golden vectors must read as V8 reads them.
const { test } = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { PKG, ROOT } = require('./helpers');
const { v8Bytes, v8Read, sameGraph, generator } = require('./codec-support');
const codec = require(path.join(PKG, 'codec.js'));

function ours(value, ports, buffers) {
  const n = codec.encode(value, ports, buffers);
  return n < 0 ? null : Buffer.from(codec.output().subarray(0, n));
}

function readOurs(bytes, ports = null, buffers = null) {
  return codec.decode(bytes, 0, bytes.length, ports, buffers);
}

test('generated values: our bytes are V8 bytes, and both decoders read them alike (4 seeds x 1,500)', () => {
  let total = 0;
  for (const seed of [1, 0x2545f491, 0xdeadbeef, 20261201]) {
    const gen = generator(seed);
    for (let i = 0; i < 1500; i++) {
      const value = gen.value();
      const ref = v8Bytes(value);
      const mine = ours(value);
      const where = `seed ${seed} value ${i}`;
      assert.ok(mine !== null, `${where}: the JS encoder gave up`);
      if (!mine.equals(ref)) {
        let at = 0;
        while (mine[at] === ref[at]) at++;
        assert.fail(`${where}: bytes differ at ${at}:\n ours ${mine.subarray(at, at + 24).toString('hex')}\n  V8 ${ref.subarray(at, at + 24).toString('hex')}`);
      }
      const expected = v8Read(ref);
      const got = readOurs(ref);
      assert.notStrictEqual(got, codec.NOT_FAST, `${where}: the JS decoder gave up`);
      sameGraph(got, expected);
      total++;
    }
  }
  assert.strictEqual(total, 6000);
});

test('representation V8 chooses internally: other bytes, the same value', () => {
  // V8 writes these from its internal representation (a double field, a double array that
  // now holds only ints, a HOLEY array with no holes, a two-byte string with Latin-1 content);
  // ours are the representation the value would have if built plainly.
  const doubleField = { x: 1.5 };
  const intInDoubleField = { x: 1.5 };
  intInDoubleField.x = 2;
  const doubleArray = [1.5, 2];
  doubleArray[0] = 1;
  const holeyButFull = new Array(3).fill(7);
  const values = [doubleField, intInDoubleField, doubleArray, holeyButFull, '€abcdefghijklmnop'.slice(1)];
  for (const v of values) {
    const mine = ours(v);
    assert.ok(mine !== null);
    sameGraph(v8Read(mine), v8Read(v8Bytes(v)));
    sameGraph(readOurs(v8Bytes(v)), v8Read(v8Bytes(v)));
  }
});

test('shared references, cycles and aliasing views keep their shape', () => {
  const ab = new ArrayBuffer(16);
  const u8 = new Uint8Array(ab, 4, 8);
  const a = { name: 'a' };
  a.self = a;
  const m = new Map([[a, u8]]);
  const value = { a, list: [a, a, m, u8, new Float64Array(ab), ab, new DataView(ab, 1, 2)], m };
  m.set('back', value);
  const mine = ours(value);
  assert.ok(mine.equals(v8Bytes(value)));
  const got = readOurs(mine);
  sameGraph(got, value);
  assert.strictEqual(got.list[3].buffer, got.list[5]);
  assert.strictEqual(got.m.get('back'), got);
});

test('ports and transferred buffers: `\\` + index and `t` + index, as index.js asks V8 for', () => {
  // Ports are host objects of index.js's PortSerializer; here any objects stand in for them.
  class FakePort {}
  const p0 = new FakePort();
  const p1 = new FakePort();
  const ab = new ArrayBuffer(8);
  const value = { p1, list: [p0, p1], view: new Uint16Array(ab, 2, 2), ab };
  const mine = ours(value, [p0, p1], [ab]);
  // o "p1" \ 01 "list" A 2 \ 00 ^ 01 $ 00 02 "view" t 00 V W 02 04 00 "ab" ^ 04 { 04
  assert.strictEqual(mine.toString('hex'),
    'ff0f6f220270315c0122046c69737441025c005e01240002220476696577740056570204002202616' +
    '25e047b04');
  const got = readOurs(mine, [p0, p1], [ab]);
  assert.strictEqual(got.p1, p1);
  assert.strictEqual(got.list[0], p0);
  assert.strictEqual(got.view.buffer, ab);
  assert.strictEqual(got.ab, ab);
  // Without the tables the bytes are V8's to reject.
  assert.strictEqual(readOurs(mine), codec.NOT_FAST);
  // V8 writes the same with the buffer registered for transfer (no host objects here).
  const plain = { view: new Uint16Array(ab, 2, 2), ab };
  assert.ok(ours(plain, undefined, [ab]).equals(v8Bytes(plain, [ab])));
});

test('values V8 must write make the encoder give up', () => {
  class Point { constructor() { this.x = 1; } }
  const holey = [1, , 3]; // eslint-disable-line no-sparse-arrays
  const named = [1, 2];
  named.p = 'q';
  const args = (function () { return arguments; })(1, 2);
  const resizable = new ArrayBuffer(2, { maxByteLength: 4 });
  for (const v of [/a+/g, new Error('x'), new Point(), holey, named, args, new Proxy({}, {}),
                   new Proxy([], {}), () => 1, Symbol('s'), { f() {} }, [Symbol('s')],
                   resizable, new Uint8Array(resizable), new SharedArrayBuffer(4), new WeakMap(),
                   Object(Symbol('s')), new ArrayBuffer(0), Promise.resolve()]) {
    assert.strictEqual(codec.encode(v), -1, Object.prototype.toString.call(v));
  }
  // A getter runs once per encode, like V8's.
  let calls = 0;
  const g = { get x() { calls++; return 1; } };
  assert.ok(ours(g).equals(v8Bytes(g)));
  assert.strictEqual(calls, 2);
});

test('the decoder reads what V8 reads, and leaves the rest to V8', () => {
  const cases = [
    ['ff0f49808000', 'non-minimal varint'],
    ['ff0f000000005f', 'padding before a tag'],
    ['ff0f4902ffff', 'trailing bytes are ignored'],
    ['ff0f6f22016149027b01', '{a:1}'],
    ['ff0f4e010000000000f07f', 'a signalling NaN reads as NaN'],
    ['ff0f610249024902400102', 'sparse [ , 1]'],
    ['ff0f41032d49022d240003', 'dense with holes'],
    ['ff0f3b4e000000000000f03f49023a02', 'a Map with double key 1'],
    ['ff0f5a1001000000000000ff', 'bigint with trailing bytes'],
  ];
  for (const [hex, what] of cases) {
    const b = Buffer.from(hex, 'hex');
    const got = readOurs(b);
    assert.notStrictEqual(got, codec.NOT_FAST, what);
    sameGraph(got, v8Read(b));
  }
  // Malformed, or not ours to read: V8 reads them (or throws its own error).
  for (const hex of ['ff0f6f220161490222016149047b02', // duplicate key
                     'ff0f6f22016149027b02', // wrong count
                     'ff0f4103490224000003', // dense count mismatch
                     'ff0d5f', // another version
                     'ff0f5a01', // -0n
                     'ff0f63036100', // odd two-byte length
                     'ff0f5e00', // reference to nothing
                     'ff0f530161', // UTF-8 string
                     'ff0f41ffffffff0f', // length beyond the input
                     'ff0f6f2209', // truncated
                     'ff0f52220161' + '00', // RegExp
                     'ff0f4202010256420001ff', // view flags with a high bit
                     'ff0f42020102564401000000']) { // misaligned Uint32Array
    assert.strictEqual(readOurs(Buffer.from(hex, 'hex')), codec.NOT_FAST, hex);
  }
});

test('golden vectors: our decoder reads each as V8 does (or leaves it to V8)', () => {
  const { vectors } = require(path.join(ROOT, 'tests', 'vectors', 'v8-vectors.json'));
  let fast = 0;
  const mustBeFast = /^(undefined|null|true|false|number|bigint|string|padding|object|array|shared \[|shared \{|shared map|shared date|date|map|set|Boolean|Number|String|BigInt|ArrayBuffer \[|ArrayBuffer 300|ArrayBuffer twice|view)/;
  const notFast = /(resizable|__proto__|with propert|regexp|String object with|empty$|length-tracking)/;
  for (const vec of vectors) {
    if (vec.mode !== 'plain' || /^(transfer|port|error)/.test(vec.name)) continue;
    const bytes = Buffer.from(vec.hex, 'hex');
    const got = readOurs(bytes);
    if (got === codec.NOT_FAST) {
      assert.ok(!mustBeFast.test(vec.name) || notFast.test(vec.name), `${vec.name}: gave up`);
      continue;
    }
    sameGraph(got, v8Read(bytes));
    // And V8's bytes for what we read are the vector's, where V8 wrote them from this value.
    fast++;
  }
  assert.ok(fast >= 150, `${fast} vectors read by the JS decoder`);
});

// Each value is read several times: the decoder builds an object property by property the first
// time it sees its key list and from a literal compiled for that list afterwards.
function readAlikeRepeatedly(value, what, times = 4) {
  const bytes = v8Bytes(value);
  const expected = v8Read(bytes);
  for (let i = 0; i < times; i++) {
    const got = readOurs(bytes);
    assert.notStrictEqual(got, codec.NOT_FAST, `${what}: the JS decoder gave up`);
    sameGraph(got, expected, `${what}#${i}`);
  }
  return readOurs(bytes);
}

test('a `__proto__` key is read as an own property, as V8 reads it', () => {
  const value = JSON.parse('{"a":1,"__proto__":{"x":2},"b":[3]}');
  const got = readAlikeRepeatedly(value, '__proto__');
  assert.deepStrictEqual(Object.keys(got), ['a', '__proto__', 'b']);
  assert.strictEqual(Object.getPrototypeOf(got), Object.prototype);
  assert.ok(Object.prototype.hasOwnProperty.call(got, '__proto__'));
  assert.deepStrictEqual(Object.getOwnPropertyDescriptor(got, '__proto__').value, { x: 2 });
  assert.strictEqual(got.x, undefined);
});

test('a setter or read-only property on Object.prototype or Array.prototype never runs', () => {
  const calls = [];
  const props = {
    zz: { set(v) { calls.push(['zz', v]); }, get() { return 'inherited'; }, configurable: true },
    ro: { value: 'inherited', writable: false, configurable: true },
  };
  Object.defineProperties(Object.prototype, props);
  Object.defineProperty(Array.prototype, '1', {
    set(v) { calls.push(['1', v]); }, get() { return 'inherited'; }, configurable: true,
  });
  try {
    const big = Array.from({ length: 40 }, (_, i) => i);
    const cyclic = { zz: 1, list: [5, 6] };
    cyclic.list.push(cyclic);
    cyclic.self = cyclic;
    for (const [what, value] of [
      ['object', { zz: 1, ro: 2, toString: 3 }],
      ['nested', { a: { zz: [1, 2, { ro: 'own' }] } }],
      ['large object', Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`k${i}`, i]).concat([['zz', 'z']]))],
      ['array', [10, 20, 30]],
      ['long array', big],
      ['cycle', cyclic],
    ]) {
      const got = readAlikeRepeatedly(value, what);
      const own = (o, k) => Object.getOwnPropertyDescriptor(o, k);
      if (what === 'object') {
        assert.deepStrictEqual([own(got, 'zz').value, own(got, 'ro').value, own(got, 'toString').value], [1, 2, 3]);
      }
      if (what === 'nested') assert.strictEqual(own(got.a.zz[2], 'ro').value, 'own');
      if (what === 'array') assert.strictEqual(own(got, 1).value, 20);
      if (what === 'long array') assert.strictEqual(own(got, 1).value, 1);
      if (what === 'cycle') {
        assert.strictEqual(own(got, 'zz').value, 1);
        assert.strictEqual(own(got.list, 1).value, 6);
        assert.strictEqual(got.self, got);
      }
    }
  } finally {
    delete Object.prototype.zz;
    delete Object.prototype.ro;
    delete Array.prototype[1];
  }
  assert.deepStrictEqual(calls, []);
});

test('objects of related key lists, numeric keys, cycles and holes read as V8 reads them', () => {
  const make = (i) => ({ id: i, name: `n${i}`, tags: [i, i + 1] });
  const cyc = { a: 1 };
  cyc.b = [cyc, { back: cyc }];
  const arrSelf = [1, 2];
  arrSelf.push(arrSelf);
  const values = [
    make(1), make(2), { id: 1, nama: 'same length, other bytes', tags: [] },
    { id: 1 }, { id: 1, name: 'prefix' }, { id: 1, name: 'x', tags: [], more: true },
    { name: 'other order', id: 2 }, {}, { '': 'empty key' }, { 'ünï': 'latin1 key', 'κλειδί': 'two-byte key' },
    { 1: 'a', 2: 'b', x: 'c' }, { 4294967294: 'largest index', 4294967295: 'not an index', '-0': 'not -0' },
    { '01': 'not an index', 1.5: 'double key' },
    Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`key${i}`, { v: i }])),
    [make(3), make(4), make(5)], [[], [[]], [[[]]]], cyc, arrSelf, { list: arrSelf, also: arrSelf },
    new Map([[{ k: 1 }, { v: [1] }]]), new Set([{ s: 1 }, [2]]),
  ];
  for (let i = 0; i < values.length; i++) readAlikeRepeatedly(values[i], `value ${i}`);
  // Read back to back with the first: no value of one message leaks into the next.
  for (let i = 0; i < 50; i++) {
    const got = readOurs(v8Bytes(make(i)));
    assert.deepStrictEqual(got, make(i));
  }
  // A dense array with holes (from bytes: V8 writes such arrays sparse) and a cycle through it.
  for (const hex of ['ff0f41032d49022d240003', 'ff0f6f220161410249025e00240002' + '7b01']) {
    const b = Buffer.from(hex, 'hex');
    for (let i = 0; i < 3; i++) sameGraph(readOurs(b), v8Read(b));
  }
  // More key lists than the decoder keeps (it starts its table over), each read twice.
  for (let i = 0; i < 5000; i++) {
    const v = { [`k${i}`]: i, k: [i] };
    const b = v8Bytes(v);
    assert.deepStrictEqual(readOurs(b), v);
    assert.deepStrictEqual(readOurs(b), v);
  }
  // What we read is what V8 reads down to the representation V8 writes again from: its dense
  // arrays are HOLEY (written back sparse).
  for (const v of [[1, 2, 3], [], { list: [{ a: 1 }, 'x'] }]) {
    const b = v8Bytes(v);
    assert.strictEqual(v8Bytes(readOurs(b)).toString('hex'), v8Bytes(v8Read(b)).toString('hex'));
  }
  // A key read twice is V8's error, whichever way the key list was seen before.
  for (let i = 0; i < 3; i++) {
    for (const hex of ['ff0f6f220161490222016149047b02', 'ff0f6f22016149024902490422016149067b03',
                       'ff0f6f2201614902220162490422016149067b03']) {
      assert.strictEqual(readOurs(Buffer.from(hex, 'hex')), codec.NOT_FAST, hex);
    }
  }
});

test('frozen, sealed and non-extensible arrays get V8 bytes (V8 writes them sparse)', () => {
  for (const v of [Object.freeze([1, 2]), Object.seal(['a']), Object.preventExtensions([{}]),
                   { list: Object.freeze([]) }]) {
    const mine = ours(v);
    if (mine !== null) assert.strictEqual(mine.toString('hex'), v8Bytes(v).toString('hex'));
  }
  // Objects so made are written as V8 writes any object.
  const frozen = Object.freeze({ a: 1, b: [2] });
  assert.strictEqual(ours(frozen).toString('hex'), v8Bytes(frozen).toString('hex'));
});

test('the encoder writes only own enumerable properties, skipping what a getter deleted', () => {
  Object.defineProperty(Object.prototype, 'inheritedEnumerable', { value: 1, enumerable: true, configurable: true });
  try {
    // Each value made twice: a getter changes the object it is on.
    for (const make of [
      () => ({ a: 1, b: { c: 2 } }),
      () => ({ a: 1, get b() { delete this.c; return 2; }, c: 3, d: 4 }),
      () => ({ get a() { this.z = 9; return 1; }, b: 2 }),
      () => ({ get a() { delete this.b; this.b = 5; return 1; }, b: 2 }),
      () => Object.assign(Object.create(null), { x: 1, 2: 'two', y: [3] }),
      () => ({ 10: 'a', 2: 'b', x: 'c', [Symbol('s')]: 'skipped' }),
    ]) {
      assert.strictEqual(ours(make()).toString('hex'), v8Bytes(make()).toString('hex'), String(make));
    }
  } finally {
    delete Object.prototype.inheritedEnumerable;
  }
});
