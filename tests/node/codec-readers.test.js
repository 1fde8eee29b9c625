'use strict';
// The JS decoder's shape readers: once objects of one key list were read whole, an object that
// begins with the same first key is read by that list's reader, which checks each further key's
// bytes in place. Whatever differs (a later key, its length or bytes, the order, the count,
// the value types, an exotic key), the message reads as V8 reads it.
const { test } = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { PKG } = require('./helpers');
const { v8Bytes, v8Read, sameGraph } = require('./codec-support');
const codec = require(path.join(PKG, 'codec.js'));

function readAsV8(value, what) {
  const bytes = v8Bytes(value);
  const got = codec.decode(bytes, 0, bytes.length, null, null);
  assert.notStrictEqual(got, codec.NOT_FAST, `${what}: the JS decoder gave up`);
  sameGraph(got, v8Read(bytes), what);
  for (const k of Object.keys(got)) {
    assert.ok(Object.prototype.hasOwnProperty.call(got, k), `${what}: ${k} is own`);
  }
  return got;
}

// Reads `base` until its reader is in use, then each variant, then `base` again, several rounds.
function variantsAfter(base, variants) {
  for (let i = 0; i < 4; i++) readAsV8(base, 'base');
  for (let round = 0; round < 3; round++) {
    for (const [what, v] of variants) {
      readAsV8(v, what);
      readAsV8(base, `base after ${what}`);
    }
  }
}

test('objects that differ from a known key list at any key read as V8 reads them', () => {
  const base = { rid: 1, name: 'item', tags: [1, 2, 3], paid: true };
  variantsAfter(base, [
    ['other second key', { rid: 1, nome: 'item', tags: [1, 2, 3], paid: true }],
    ['second key, same length', { rid: 1, nbme: 'item', tags: [1, 2, 3], paid: true }],
    ['second key, longer', { rid: 1, names: 'item', tags: [1, 2, 3], paid: true }],
    ['the last unit of a key differs', { rid: 1, name: 'item', tagz: [1, 2, 3], paid: true }],
    ['second key, a prefix', { rid: 1, nam: 'item', tags: [1, 2, 3], paid: true }],
    ['last key differs', { rid: 1, name: 'item', tags: [1, 2, 3], payd: true }],
    ['one key more', { rid: 1, name: 'item', tags: [1, 2, 3], paid: true, extra: null }],
    ['keys fewer', { rid: 1, name: 'item' }],
    ['first key only', { rid: 1 }],
    ['same keys, other order', { rid: 1, tags: [1, 2, 3], name: 'item', paid: true }],
    ['values of other types', { rid: 'one', name: 1.5, tags: { rid: 2 }, paid: null }],
    ['values undefined and BigInt', { rid: undefined, name: 10n, tags: [], paid: new Date(5) }],
    ['a two-byte value', { rid: 1, name: 'ĩtem', tags: [1], paid: false }],
    ['a two-byte key', { rid: 1, nämé: 'item', tags: [1, 2, 3], paid: true }],
    ['a key past 0xFF', { rid: 1, ñ: 1, 'κλειδί': 2, paid: true }],
    ['an array-index key', { rid: 1, 7: 'seven', name: 'item', paid: true }],
    ['__proto__ as a key', JSON.parse('{"rid":1,"__proto__":{"x":2},"tags":[3],"paid":true}')],
    ['nested in itself',
     { rid: 1, name: { rid: 2, name: 'in', tags: [], paid: false }, tags: [], paid: true }],
  ]);
});

test('a known key list nested in itself, shared and in cycles reads as V8 reads it', () => {
  const make = (i) => ({ rid: i, name: `n${i}`, tags: [i], paid: i % 2 === 0 });
  const inner = make(1);
  const outer = { rid: 0, name: inner, tags: [inner, inner], paid: true };
  const cyclic = make(2);
  cyclic.tags = [cyclic];
  const self = make(3);
  self.paid = self;
  variantsAfter(make(0), [
    ['shared', outer],
    ['cycle through an array', cyclic],
    ['cycle through the last value', self],
    ['deep', Array.from({ length: 30 }, (_, i) => i)
      .reduce((acc, i) => ({ rid: i, name: acc, tags: [], paid: true }), null)],
  ]);
  const got = readAsV8(outer, 'shared');
  assert.strictEqual(got.name, got.tags[0]);
  assert.strictEqual(got.tags[0], got.tags[1]);
  const c = readAsV8(self, 'self');
  assert.strictEqual(c.paid, c);
});

test('__proto__ and two-byte keys in a known key list are own properties, as V8 reads them', () => {
  const value = () => JSON.parse('{"rid":1,"__proto__":{"x":2},"tags":[3],"ключ":4}');
  for (let i = 0; i < 6; i++) {
    const got = readAsV8(value(), `__proto__ #${i}`);
    assert.strictEqual(Object.getPrototypeOf(got), Object.prototype);
    assert.deepStrictEqual(Object.getOwnPropertyDescriptor(got, '__proto__').value, { x: 2 });
    assert.strictEqual(got.ключ, 4);
    assert.strictEqual(got.x, undefined);
  }
});

test('truncated and altered bytes of a known key list never read as something else', () => {
  const base = { rid: 7, name: 'item', tags: [1, 2, 3], paid: true };
  for (let i = 0; i < 4; i++) readAsV8(base, 'base');
  const bytes = v8Bytes(base);
  // Every truncation: ours gives up (V8 reports the error) or reads what V8 reads.
  for (let n = 3; n < bytes.length; n++) {
    const cut = bytes.subarray(0, n);
    const got = codec.decode(cut, 0, cut.length, null, null);
    let expected;
    try {
      expected = v8Read(cut);
    } catch {
      assert.strictEqual(got, codec.NOT_FAST, `cut at ${n}`);
      continue;
    }
    if (got !== codec.NOT_FAST) sameGraph(got, expected, `cut at ${n}`);
  }
  // Every single byte changed: ours gives up, or reads what V8 reads.
  for (let i = 3; i < bytes.length; i++) {
    for (const delta of [1, 0x7f]) {
      const b = Buffer.from(bytes);
      b[i] = (b[i] + delta) & 0xff;
      let expected;
      try {
        expected = v8Read(b);
      } catch {
        expected = codec.NOT_FAST;
      }
      const got = codec.decode(b, 0, b.length, null, null);
      if (got === codec.NOT_FAST) continue;
      assert.notStrictEqual(expected, codec.NOT_FAST, `byte ${i} + ${delta}: V8 refuses it`);
      sameGraph(got, expected, `byte ${i} + ${delta}`);
    }
  }
});

test('very many distinct key lists read as V8 reads them and the known ones keep working', () => {
  const base = { rid: 1, name: 'x', tags: [], paid: true };
  for (let i = 0; i < 4; i++) readAsV8(base, 'base');
  for (let i = 0; i < 6000; i++) {
    const v = { rid: i, [`k${i}`]: i, [`q${i % 7}`]: 'v' };
    if (i % 500 === 0) {
      readAsV8(v, `distinct #${i}`);
      readAsV8(base, `base after #${i}`);
    } else {
      const bytes = v8Bytes(v);
      assert.notStrictEqual(codec.decode(bytes, 0, bytes.length, null, null), codec.NOT_FAST);
    }
  }
});

test('with code generation from strings disallowed, known key lists read as V8 reads them', () => {
  const { spawnSync } = require('node:child_process');
  const script = `
    const v8 = require('node:v8');
    const codec = require(${JSON.stringify(path.join(PKG, 'codec.js'))});
    const values = [{ rid: 1, name: 'a', tags: [1] }, { rid: 2, name: 'b', tags: [] },
                    { rid: 3, nome: 'c' }];
    let fast = 0;
    for (let i = 0; i < 30; i++) {
      const v = values[i % 3];
      const b = v8.serialize(v);
      const got = codec.decode(b, 0, b.length, null, null);
      if (got === codec.NOT_FAST) continue;
      fast++;
      if (JSON.stringify(got) !== JSON.stringify(v)) throw new Error('read ' + JSON.stringify(got));
    }
    let refused = false;
    try { new Function('return 1'); } catch { refused = true; }
    process.stdout.write(JSON.stringify({ fast, refused }));
  `;
  const r = spawnSync(process.execPath, ['--disallow-code-generation-from-strings', '-e', script],
                      { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  assert.deepStrictEqual(JSON.parse(r.stdout), { fast: 30, refused: true });
});

test('dense arrays whose length takes one or two varint bytes read as V8 reads them', () => {
  for (const n of [0, 1, 3, 127, 128, 129, 200, 255, 256, 300]) {
    readAsV8(Array.from({ length: n }, (_, i) => i), `ints[${n}]`);
    readAsV8({ list: Array.from({ length: n }, (_, i) => `s${i}`), after: 1 }, `strings[${n}]`);
  }
});

test('shapes that share a first key, alternating in a stream, read as V8 reads them', () => {
  const shapes = [
    (i) => ({ id: i, name: `n${i}`, tags: [i] }),
    (i) => ({ id: i, owner: { id: -i, name: 'o' }, items: [{ id: i }], paid: true }),
    (i) => ({ id: i, name: `m${i}`, tags: [i], more: 1 }), // as the first, one key more
    (i) => ({ id: i, name: i, price: 9.5 }), // as the first up to its third key
    (i) => ({ id: i }),
    (i) => ({ id: `s${i}`, owner: null }),
  ];
  for (let i = 0; i < 600; i++) {
    // Pairs, then triples, then every shape in turn: each hint is the wrong one at times.
    const k = i < 200 ? i % 2 : i < 400 ? i % 3 : i % shapes.length;
    readAsV8(shapes[k](i), `shape ${k} #${i}`);
  }
});
