'use strict';
// The JS codec inside the package: values through our ports (plain, large, with transferred
// ports and buffers), and the sender refusing what the core's reader would refuse.
const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { PKG, ROOT } = require('./helpers');
const { sameGraph, generator, v8Bytes, v8Read } = require('./codec-support');
const wm = require(PKG);
const limits = require(path.join(PKG, 'codec', 'limits.js'));

test('the sender limits are the core reader limits', () => {
  const src = fs.readFileSync(path.join(ROOT, 'core', 'src', 'clone', 'decode', 'mod.rs'), 'utf8');
  const def = /impl Default for Limits \{[\s\S]*?\n\}/.exec(src)[0];
  const value = (name) => {
    const m = new RegExp(`${name}: ([^,]+),`).exec(def)[1].trim();
    const shift = /^1 << (\d+)$/.exec(m);
    return shift ? 2 ** Number(shift[1]) : Number(m);
  };
  assert.strictEqual(limits.MAX_OBJECTS, value('max_objects'));
  assert.strictEqual(limits.MAX_STRING_UNITS, value('max_string_units'));
  assert.strictEqual(limits.MAX_BYTES, value('max_bytes'));
  assert.strictEqual(limits.MAX_BIGINT_BYTES, value('max_bigint_bytes'));
});

// Closes a port and waits for its 'close': the port stays referenced until then (a closing port
// collected before its close record arrives would keep the loop alive for ever).
function closed(port) {
  return new Promise((resolve) => {
    port.once('close', resolve);
    port.close();
  });
}

function withLimits(over, fn) {
  const saved = { ...limits };
  Object.assign(limits, over);
  try {
    fn();
  } finally {
    Object.assign(limits, saved);
  }
}

test('a message over the reader limits is a DataCloneError at the sender, and nothing is posted', async () => {
  const { port1, port2 } = new wm.MessageChannel();
  const over = [
    [{ MAX_OBJECTS: 100 }, Array.from({ length: 100 }, () => ({}))],
    [{ MAX_STRING_UNITS: 1000 }, { a: 'x'.repeat(600), b: 'y'.repeat(401) }],
    [{ MAX_STRING_UNITS: 1000 }, 'é'.repeat(1001)],
    [{ MAX_BYTES: 1024 }, [new Uint8Array(600), new Uint8Array(600)]],
    [{ MAX_BIGINT_BYTES: 64 }, 2n ** 520n],
  ];
  for (const [lim, value] of over) {
    withLimits(lim, () => {
      assert.throws(() => port1.postMessage(value),
                    (e) => e instanceof DOMException && e.name === 'DataCloneError' &&
                           /receiver/.test(e.message), JSON.stringify(lim));
    });
    assert.strictEqual(wm.receiveMessageOnPort(port2), undefined);
  }
  // At the limit it goes through.
  withLimits({ MAX_OBJECTS: 101, MAX_STRING_UNITS: 1001 }, () => {
    port1.postMessage([Array.from({ length: 99 }, () => ({})), 'x'.repeat(1001)]);
  });
  assert.strictEqual(wm.receiveMessageOnPort(port2).message[0].length, 99);
  await closed(port1);
});

test('what V8 writes for the values the JS codec leaves to it is held to the same limits', async () => {
  const { port1, port2 } = new wm.MessageChannel();
  // A RegExp sends the whole value down V8's path; the core reader refuses a BigInt over 1 MiB
  // and a sparse array longer than its budget. (Nesting past the reader's 10,000 levels cannot
  // be tested here: V8's recursive serializer runs out of stack first, as Node's built-in does.)
  const sparse = [];
  sparse[20_000_000] = 1;
  const over = [
    { r: /x/, big: 1n << 8_400_000n },
    { r: /x/, sparse },
  ];
  for (const value of over) {
    assert.throws(() => port1.postMessage(value),
                  (e) => e instanceof DOMException && e.name === 'DataCloneError' &&
                         /receiver reads/.test(e.message));
    assert.strictEqual(wm.receiveMessageOnPort(port2), undefined);
  }
  // Within the limits the same shapes go through V8 and arrive.
  const small = [];
  small[1000] = 1;
  port1.postMessage({ r: /x/, big: 1n << 1000n, small });
  const got = wm.receiveMessageOnPort(port2).message;
  assert.strictEqual(got.big, 1n << 1000n);
  assert.strictEqual(got.small.length, 1001);
  await closed(port1);
});

test('generated values arrive as V8 would deliver them (300 values, plain and over 64 KiB)', async () => {
  const { port1, port2 } = new wm.MessageChannel();
  const gen = generator(7);
  for (let i = 0; i < 300; i++) {
    const value = i % 50 === 0 ? { big: 'z€'.repeat(40000), i } : gen.value();
    port1.postMessage(value);
    sameGraph(wm.receiveMessageOnPort(port2).message, v8Read(v8Bytes(value)));
  }
  await closed(port1);
});

test('transferred ports and buffers inside values, and a 1 MiB view transferred', async () => {
  const { port1, port2 } = new wm.MessageChannel();
  const c = new wm.MessageChannel();
  const ab = new ArrayBuffer(1 << 20);
  new Uint8Array(ab)[12345] = 7;
  const value = { port: c.port2, again: c.port2, view: new Uint8Array(ab, 8), shared: [1, 2] };
  value.shared.push(value.shared);
  port1.postMessage(value, [c.port2, ab]);
  assert.strictEqual(ab.byteLength, 0, 'the buffer is detached at the sender');
  const got = wm.receiveMessageOnPort(port2).message;
  assert.ok(got.port instanceof wm.MessagePort);
  assert.strictEqual(got.again, got.port);
  assert.strictEqual(got.view.byteOffset, 8);
  assert.strictEqual(got.view.buffer.byteLength, 1 << 20);
  assert.strictEqual(got.view[12345 - 8], 7);
  assert.strictEqual(got.shared[2], got.shared);
  got.port.postMessage('through the moved port');
  assert.strictEqual(wm.receiveMessageOnPort(c.port1).message, 'through the moved port');
  await Promise.all([closed(got.port), closed(c.port1), closed(port1)]);
});

test('what the JS codec leaves to V8 still arrives (RegExp, Error, holey arrays, class instances)', async () => {
  const { port1, port2 } = new wm.MessageChannel();
  class P { constructor() { this.x = 1; } }
  const holey = [1, , 3]; // eslint-disable-line no-sparse-arrays
  port1.postMessage({ r: /a+/gi, e: new RangeError('boom'), holey, p: new P() });
  const got = wm.receiveMessageOnPort(port2).message;
  assert.strictEqual(got.r.source, 'a+');
  assert.ok(got.e instanceof RangeError);
  assert.ok(!(1 in got.holey) && got.holey.length === 3);
  assert.deepStrictEqual(got.p, { x: 1 });
  assert.throws(() => port1.postMessage({ f() {} }), (e) => e.name === 'DataCloneError');
  await closed(port1);
});
