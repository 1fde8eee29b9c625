'use strict';
// The post path's own entry to the codec (codec.encodeFast), which writes some top-level values
// itself without the encoder: its bytes must be V8's, and what it cannot write stays V8's.
const { test } = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { PKG } = require('./helpers');
const { v8Bytes } = require('./codec-support');
const codec = require(path.join(PKG, 'codec.js'));
const wm = require(PKG);

function fast(value) {
  const n = codec.encodeFast(value);
  return n < 0 ? null : Buffer.from(codec.scratch.subarray(0, n));
}

// Kept apart so that each is the representation V8 gives it when written as a literal: the
// int32 values as Smis, the rest as doubles (an int32 read out of a double array would be a
// HeapNumber, which V8 writes as a double; see the note in codec/encode.js).
const SMIS = [
  0, 1, -1, 63, -64, 64, -65, 127, 128, 8191, 8192, -8193, 2 ** 20, 2 ** 30 - 1, 2 ** 30,
  -(2 ** 30), -(2 ** 30) - 1, 2 ** 31 - 1, -(2 ** 31),
];
const DOUBLES = [
  -0, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, 1.5, -1.5, NaN, Infinity, -Infinity,
  Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, 1e300,
];
const NUMBERS = [...SMIS, ...DOUBLES];

test('encodeFast writes every top-level number as V8 does (Smi or double, -0 included)', () => {
  for (const list of [SMIS, DOUBLES]) {
    for (const x of list) {
      assert.deepStrictEqual(fast(x), v8Bytes(x), `bytes of ${Object.is(x, -0) ? '-0' : x}`);
    }
  }
});

test('encodeFast after a number: other values are still written by the encoder', () => {
  for (const v of [7, { id: 1, name: 'item', tags: [1, 2, 3] }, 8, 'x', -0, [1.5, 2], true]) {
    assert.deepStrictEqual(fast(v), v8Bytes(v));
  }
});

test('posted numbers arrive as themselves, in order', async () => {
  const { port1, port2 } = new wm.MessageChannel();
  const got = [];
  const done = new Promise((resolve) => {
    port2.on('message', (m) => {
      got.push(m);
      if (got.length === NUMBERS.length) resolve();
    });
  });
  for (const x of NUMBERS) port1.postMessage(x);
  await done;
  assert.strictEqual(got.length, NUMBERS.length);
  got.forEach((m, i) => assert.ok(Object.is(m, NUMBERS[i]), `message ${i}: ${m} vs ${NUMBERS[i]}`));
  port1.close();
});
