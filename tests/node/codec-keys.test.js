'use strict';
// The JS encoder's keys: the common key (short, one-byte, not an index) is written in place in
// the property loop, any other by the general writer. Whatever the key, the order, the values'
// types or what a getter does meanwhile, the bytes are V8's.
const { test } = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { PKG } = require('./helpers');
const { v8Bytes } = require('./codec-support');
const codec = require(path.join(PKG, 'codec.js'));

function ours(value) {
  const n = codec.encode(value, undefined, undefined);
  return n < 0 ? null : Buffer.from(codec.output().subarray(0, n));
}

function sameBytes(value, what) {
  const mine = ours(value);
  assert.ok(mine !== null, `${what}: the JS encoder gave up`);
  const ref = v8Bytes(value);
  assert.ok(mine.equals(ref),
            `${what}:\n ours ${mine.toString('hex')}\n  V8 ${ref.toString('hex')}`);
}

test('keys of every form, alone and after common ones, are written as V8 writes them', () => {
  const keys = ['', 'a', 'id', 'name', '0', '7', '01', '1a', '9x', '/', ':', '4294967294',
                '4294967295', '2147483648', '-1', '__proto__', 'é', 'ÿ', 'Ā', 'ключ', '😀', 'aĀ',
                'k'.repeat(47), 'k'.repeat(48), 'k'.repeat(49), 'k'.repeat(127), 'k'.repeat(128),
                `${'k'.repeat(46)}Ā`, `${'k'.repeat(47)}Ā`];
  for (const k of keys) {
    for (let round = 0; round < 3; round++) {
      sameBytes(JSON.parse(JSON.stringify({ [k]: 1 })), JSON.stringify(k));
      const after = JSON.parse(JSON.stringify({ id: 1, [k]: 'v', name: [k] }));
      sameBytes(after, `id, ${JSON.stringify(k)}`);
    }
  }
  const proto = JSON.parse('{"a":1,"__proto__":{"x":2},"b":[3]}');
  sameBytes(proto, '__proto__ own');
});

test('the same keys in another order, values of other types: written as V8 writes them', () => {
  const values = [
    { id: 1, name: 'item', tags: [1, 2, 3] },
    { name: 'item', id: 1, tags: [1, 2, 3] },
    { tags: [1, 2, 3], name: 'item', id: 1 },
    { id: 'one', name: 2.5, tags: { id: 1 } },
    { id: null, name: undefined, tags: true },
    { id: -0, name: 2 ** 31, tags: [1.5, 2, 3] },
    { id: 10n, name: new Date(1), tags: new Map([[1, 2]]) },
    { id: 1, 5: 'index first', name: 'x' },
  ];
  for (let round = 0; round < 3; round++) {
    values.forEach((v, i) => sameBytes(v, `value ${i}`));
  }
});

test('a getter that adds, deletes or changes keys during the write gives V8 bytes', () => {
  const make = (what) => {
    const o = { a: 1, b: 2, c: 3 };
    Object.defineProperty(o, 'g', {
      enumerable: true,
      configurable: true,
      get() {
        if (what === 'delete') delete o.c;
        if (what === 'add') o.z = 'added';
        if (what === 'change') o.c = 'changed';
        if (what === 'self') delete o.g;
        return what;
      },
    });
    o.c = 3; // after g in the order
    return o;
  };
  for (const what of ['delete', 'add', 'change', 'self']) {
    // V8 sees the object as it is before its own write: the same edits, made again.
    const mine = ours(make(what));
    const ref = v8Bytes(make(what));
    assert.ok(mine !== null && mine.equals(ref),
              `${what}:\n ours ${mine && mine.toString('hex')}\n  V8 ${ref.toString('hex')}`);
  }
});

test('an arguments object is V8\'s to refuse, its callee deleted or not', () => {
  const sloppy = new Function('return arguments;'); // eslint-disable-line no-new-func
  // eslint-disable-next-line no-new-func
  const deleted = new Function('delete arguments.callee; return arguments;');
  const strict = (function () { 'use strict'; return arguments; })(3);
  for (const args of [sloppy(1, 2), sloppy(), deleted(1, { x: 1 }), deleted(), strict]) {
    assert.strictEqual(codec.encode(args, undefined, undefined), -1);
    assert.throws(() => v8Bytes(args), /could not be cloned/);
  }
});
