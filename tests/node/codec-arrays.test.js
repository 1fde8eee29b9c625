'use strict';
// The JS encoder's arrays against V8 itself: each element read once, when it is written (a
// getter on an element runs once, as V8 runs it), numbers written `I` or `N` as V8's elements
// kinds write them however the array mixes them, and holes or named properties left to V8.
const { test } = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { PKG } = require('./helpers');
const { v8Bytes, v8Read, sameGraph } = require('./codec-support');
const codec = require(path.join(PKG, 'codec.js'));

function ours(value) {
  const n = codec.encode(value, undefined, undefined);
  return n < 0 ? null : Buffer.from(codec.output().subarray(0, n));
}

const hex = (b) => (b === null ? 'gave up' : b.toString('hex'));

test('an element with a getter runs it once, and the value reads back as V8 writes it', () => {
  for (const define of [
    (a, get) => Object.defineProperty(a, 1, { get, enumerable: true, configurable: true }),
    (a, get) => a.__defineGetter__(1, get), // eslint-disable-line no-restricted-properties
  ]) {
    for (const inner of [5, 1.5, 'five', { five: 5 }]) {
      let calls = 0;
      const make = () => {
        const a = [1, 2, 3];
        define(a, () => {
          calls++;
          return inner;
        });
        return { list: a, after: 'x' };
      };
      const mine = ours(make());
      assert.strictEqual(calls, 1, `our encoder ran the getter ${calls} times`);
      calls = 0;
      const ref = v8Bytes(make());
      assert.strictEqual(calls, 1);
      // V8 keeps such an array's elements in a dictionary and writes it sparse; ours is the
      // dense form of the same value (JS cannot see how V8 keeps elements).
      assert.ok(mine !== null);
      sameGraph(v8Read(mine), v8Read(ref));
    }
  }
});

test('a getter inside an element sees the array being written, as in V8', () => {
  const cases = [
    // A later element changed, deleted, or the array grown while an earlier one is written.
    () => {
      const a = [{}, 'b', 'c'];
      Object.defineProperty(a[0], 'g', { get() { a[2] = 'changed'; return 1; }, enumerable: true });
      return a;
    },
    () => {
      const a = [{}, 'b', 'c'];
      Object.defineProperty(a[0], 'g', { get() { delete a[2]; return 1; }, enumerable: true });
      return a;
    },
    () => {
      const a = [1, { get g() { a.push(4); return 2; } }, 3];
      return a;
    },
    () => {
      const a = [1.5, { get g() { a[2] = 'now a string'; return 2; } }, 3];
      return a;
    },
  ];
  for (const make of cases) {
    assert.strictEqual(hex(ours(make())), hex(v8Bytes(make())), String(make));
  }
});

test('numbers in arrays: `I` and `N` as V8 writes each elements kind, whatever the order', () => {
  // (Literals only with constant elements: V8 may box every number of a literal that also
  // holds a double and a computed element, and write them all `N`, a representation JS cannot
  // see; see codec.test.js.)
  const values = [
    [1, 2, 3], [1, 2, 1.5], [1.5, 1, 2], [1, 1.5, 'a'], [1, 1.5, 2, 'b'], [1.5, 'b', 2, 2.5],
    ['a', 1, 1.5], [-0, 'x'], [1, -0], [NaN, 1], [Infinity, 'i'], [2 ** 31, 1], [-(2 ** 31), 1],
    [0, 2 ** 30, -1, 1e21], [1, [2, 2.5], 3], [[1.5], [1, 'x'], [2]], [1, 2, undefined, 3],
    [1, 2, null], [1, 2, 3n], [1, 1.5, true], Array.from({ length: 300 }, (_, i) => i),
    Array.from({ length: 300 }, (_, i) => (i === 299 ? 0.5 : i)),
    Array.from({ length: 300 }, (_, i) => (i === 299 ? 'end' : i + 0.5)),
  ];
  for (const v of values) {
    assert.strictEqual(hex(ours(v)), hex(v8Bytes(v)), String(v));
    assert.strictEqual(hex(ours({ in: v, then: v })), hex(v8Bytes({ in: v, then: v })));
  }
});

test('holes and named properties are V8\'s, even when they make up the same count of keys', () => {
  const holeAndName = [1, , 3]; // eslint-disable-line no-sparse-arrays
  holeAndName.x = 'as many keys as elements';
  const holesAndNames = new Array(4);
  holesAndNames[0] = 1;
  holesAndNames.p = 1;
  holesAndNames.q = 2;
  holesAndNames.r = 3;
  const named = [1, 2];
  named['4294967295'] = 'not an index';
  const lastKeyLike = ['a', 'b'];
  lastKeyLike.x = 1;
  delete lastKeyLike[1];
  for (const v of [holeAndName, holesAndNames, named, lastKeyLike, { in: holeAndName }]) {
    assert.strictEqual(codec.encode(v, undefined, undefined), -1, String(Object.keys(v)));
  }
  // A getter on Array.prototype for a hole's index never runs (V8 writes the hole itself).
  let calls = 0;
  Object.defineProperty(Array.prototype, '1', { get() { calls++; return 'inherited'; }, configurable: true });
  try {
    assert.strictEqual(codec.encode([1, , 3], undefined, undefined), -1); // eslint-disable-line no-sparse-arrays
  } finally {
    delete Array.prototype[1];
  }
  assert.strictEqual(calls, 0);
});

test('elements put on Array.prototype before the codec is loaded never run, nor hide its own', () => {
  // A fresh process: the codec's working arrays are made (and grow) after the setters exist.
  const { execFileSync } = require('node:child_process');
  const src = `
    const fs = require('node:fs');
    const v8 = require('node:v8');
    let calls = 0;
    for (let i = 0; i < 40; i++) {
      Object.defineProperty(Array.prototype, i, {
        set() { calls++; }, get() { calls++; return undefined; }, configurable: true,
      });
    }
    const codec = require(${JSON.stringify(path.join(PKG, 'codec.js'))});
    calls = 0;
    const shared = { s: 1 };
    const value = { a: { b: [1, 2.5] }, list: Array.from({ length: 30 }, (_, i) => ({ i, shared })), shared };
    const n = codec.encode(value, undefined, undefined);
    const same = n > 0 && Buffer.from(codec.output().subarray(0, n)).equals(v8.serialize(value));
    const bytes = v8.serialize(value);
    const before = calls;
    const got = codec.decode(bytes, 0, bytes.length, null, null);
    const back = got !== codec.NOT_FAST && got.list[29].shared === got.shared && got.a.b[1] === 2.5;
    fs.writeSync(1, JSON.stringify({ same, back, calls: before + calls }));
  `;
  const out = JSON.parse(execFileSync(process.execPath, ['-e', src]).toString().trim());
  assert.deepStrictEqual(out, { same: true, back: true, calls: 0 });
});
