'use strict';
// The JS fast paths (bindings/node/codec.js) must write exactly V8's bytes and read exactly
// V8's values for every top-level primitive they accept; everything else is left to V8.
const { test } = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const v8 = require('node:v8');
const { PKG } = require('./helpers');
const { encodeFast, decodeFast, scratch, NOT_FAST, FAST_STRING } = require(path.join(PKG, 'codec.js'));

function v8Bytes(value) {
  const s = new v8.Serializer();
  s.writeHeader();
  s.writeValue(value);
  return s.releaseBuffer();
}

// A deterministic generator (no Math.random: failures must reproduce).
let seed = 0x2545f491;
function rnd(n) {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed % n;
}

function randomString() {
  const len = [0, 1, 2, 5, 63, 64, 127, 128, 300, FAST_STRING][rnd(10)];
  const pools = [[0x20, 0x7e], [0x80, 0xff], [0x100, 0x7ff], [0xd800, 0xdfff], [0xe000, 0xffff]];
  const mix = rnd(3) === 0 ? [pools[rnd(pools.length)]] : pools;
  let s = '';
  for (let i = 0; i < len; i++) {
    const [lo, hi] = mix[rnd(mix.length)];
    s += String.fromCharCode(lo + rnd(hi - lo + 1));
  }
  return s;
}

function randomNumber() {
  const specials = [0, -0, 1, -1, 2 ** 30, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, NaN,
                    Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, 0.1, 2 ** 53];
  switch (rnd(3)) {
    case 0: return specials[rnd(specials.length)];
    case 1: return (rnd(2 ** 31) - 2 ** 30) * (rnd(2) ? 1 : 3);
    default: return (rnd(1e9) - 5e8) / (1 + rnd(1000));
  }
}

test('fast-path bytes are V8 bytes and read back as V8 reads them (5,000 values)', () => {
  const fixed = [undefined, null, true, false, '', 'a', '\uD800', '😀', 'é€'];
  const values = fixed.slice();
  for (let i = 0; i < 2500; i++) values.push(randomNumber(), randomString());
  for (const v of values) {
    const n = encodeFast(v);
    const ref = v8Bytes(v);
    assert.ok(n >= 0, `fast path refused ${typeof v}`);
    const ours = Buffer.from(scratch.subarray(0, n));
    if (ref[2] === 0x4e && ours[2] === 0x49) {
      // V8 picks I or N by its internal representation (a HeapNumber holding an int32 value
      // is written as N): the fast path always writes the Smi form; both read as the same Number.
      assert.ok(Object.is(decodeFast(ours, 0, n), v), String(v));
      const d = new v8.Deserializer(ours);
      d.readHeader();
      assert.ok(Object.is(d.readValue(), v), String(v));
    } else {
      assert.strictEqual(ours.toString('hex'), ref.toString('hex'), String(v));
    }
    assert.ok(Object.is(decodeFast(ref, 0, ref.length), v), String(v));
  }
});

test('everything else is left to V8', () => {
  for (const v of [{}, [], 1n, 'x'.repeat(FAST_STRING + 1), new Date(0), Symbol('s'), () => 1]) {
    assert.strictEqual(encodeFast(v), -1);
  }
  for (const v of [{}, [1], 1n, new Map()]) {
    const b = v8Bytes(v);
    assert.strictEqual(decodeFast(b, 0, b.length), NOT_FAST);
  }
  // Truncated or trailing bytes are not fast-path values either (V8 reports those).
  const b = v8Bytes('abc');
  assert.strictEqual(decodeFast(b, 0, b.length - 1), NOT_FAST);
  assert.strictEqual(decodeFast(Buffer.concat([b, Buffer.from([0x30])]), 0, b.length + 1), NOT_FAST);
});
