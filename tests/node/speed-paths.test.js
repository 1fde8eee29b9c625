'use strict';
// The fast paths of the Node binding keep every value exact: a large message comes alone in its
// own bytes and its large ArrayBuffers are adopted (an ArrayBuffer over the received bytes, moved
// and re-aligned, not copied); a large message ends a batch without stranding what follows it;
// a decode that gives up after adopting puts the bytes back for V8.
const { test } = require('node:test');
const assert = require('node:assert');
const { Worker } = require('node:worker_threads');
const path = require('node:path');
const { PKG } = require('./helpers');
const wm = require(PKG);

const MiB = 1 << 20;

function pattern(n, seed) {
  const u8 = new Uint8Array(n);
  for (let i = 0; i < n; i++) u8[i] = (i * 31 + seed) & 255;
  return u8;
}

function receive(port, count) {
  return new Promise((resolve, reject) => {
    const got = [];
    port.on('messageerror', reject);
    port.on('message', (m) => {
      got.push(m);
      if (got.length === count) resolve(got);
    });
  });
}

test('large typed arrays, DataViews and shared buffers arrive exact, each in its own ArrayBuffer', async (t) => {
  const { port1, port2 } = new wm.MessageChannel();
  t.after(() => port1.close()); // a failed assertion must not leave a listening port behind
  const f64 = new Float64Array(MiB / 8).map((_, i) => i / 3);
  const u8 = pattern(MiB, 7);
  const shared = pattern(100 * 1024, 3).buffer;
  const values = [
    u8,
    f64,
    new DataView(pattern(MiB + 3, 1).buffer, 5, 70000),
    // A prefix of odd length first, so the payload sits at an unaligned offset in the message.
    { name: 'x'.repeat(13), big: new BigInt64Array(70000).fill(-5n), n: 1.5 },
    // Two views of one buffer (a back-reference), and a second large buffer after it.
    [new Uint8Array(shared, 1, 10), new Int32Array(shared, 4, 100), pattern(65536 + 1, 9)],
  ];
  const p = receive(port2, values.length);
  for (const v of values) port1.postMessage(v);
  const got = await p;
  port1.close();

  assert.deepStrictEqual(got[0], u8);
  assert.strictEqual(got[0].buffer.byteLength, MiB);
  assert.strictEqual(got[0].byteOffset, 0);
  assert.deepStrictEqual(got[1], f64);
  assert.strictEqual(got[1].buffer.byteLength, MiB);
  assert.ok(got[2] instanceof DataView);
  assert.strictEqual(got[2].byteOffset, 5);
  assert.strictEqual(got[2].byteLength, 70000);
  assert.deepStrictEqual(new Uint8Array(got[2].buffer), pattern(MiB + 3, 1));
  assert.deepStrictEqual(got[3], values[3]);
  // Atomics need natural alignment: they work on the adopted BigInt64Array.
  assert.strictEqual(Atomics.add(got[3].big, 1, 2n), -5n);
  assert.strictEqual(got[3].big[1], -3n);
  assert.deepStrictEqual(got[4], values[4]);
  assert.strictEqual(got[4][0].buffer, got[4][1].buffer);
  assert.notStrictEqual(got[4][0].buffer, got[4][2].buffer);
  // Writing one received buffer leaves the others (neighbours in the same message) unchanged.
  got[4][2].fill(0);
  assert.deepStrictEqual(new Uint8Array(got[4][0].buffer), pattern(100 * 1024, 3));
  got[4][0].fill(1);
  assert.deepStrictEqual(got[4][2], new Uint8Array(65536 + 1));
});

test('a value V8 must read after a large buffer: the adopted bytes are put back for V8', async (t) => {
  const { port1, port2 } = new wm.MessageChannel();
  t.after(() => port1.close()); // a failed assertion must not leave a listening port behind
  // The JS codec writes neither a RegExp nor an Error, so V8 writes and reads this message; the
  // JS decoder reads (and adopts) the buffers before it meets them and gives up.
  const value = { a: pattern(MiB, 5), b: pattern(70000, 6), r: /x+/gi, e: new RangeError('boom') };
  const p = receive(port2, 1);
  port1.postMessage(value);
  const [got] = await p;
  port1.close();
  assert.deepStrictEqual(got.a, value.a);
  assert.deepStrictEqual(got.b, value.b);
  assert.strictEqual(got.r.source, 'x+');
  assert.strictEqual(got.r.flags, 'gi');
  assert.strictEqual(got.e.message, 'boom');
});

test('large messages among small ones keep their order and none is left behind', async (t) => {
  const { port1, port2 } = new wm.MessageChannel();
  t.after(() => port1.close()); // a failed assertion must not leave a listening port behind
  const sent = [];
  for (let i = 0; i < 40; i++) {
    sent.push(i % 3 === 1 ? { i, data: pattern(70000 + i, i) } : { i });
  }
  const p = receive(port2, sent.length);
  for (const m of sent) port1.postMessage(m);
  const got = await p;
  port1.close();
  assert.deepStrictEqual(got, sent);
});

test('receiveMessageOnPort and a transfer of the port carry large messages too', async (t) => {
  const { port1, port2 } = new wm.MessageChannel();
  t.after(() => port1.close()); // a failed assertion must not leave a listening port behind
  port1.postMessage(pattern(MiB, 1));
  port1.postMessage(pattern(MiB, 2));
  port1.postMessage('small');
  port1.postMessage(pattern(MiB, 3));
  await new Promise((r) => setImmediate(r));
  assert.deepStrictEqual(wm.receiveMessageOnPort(port2).message, pattern(MiB, 1));
  // The rest travel with the port to a worker, which checks them.
  const w = new Worker(`
    const { workerData, parentPort } = require('node:worker_threads');
    const port = require(workerData.pkg).importPort(workerData.token);
    const ok = [];
    port.on('message', (m) => {
      ok.push(typeof m === 'string' ? m : m.length + ':' + m[0] + ':' + m[m.length - 1]);
      if (ok.length === 3) { parentPort.postMessage(ok); port.close(); }
    });`, { eval: true, workerData: { pkg: PKG, token: wm.exportPort(port2) } });
  const [got] = await Promise.all([new Promise((r) => w.once('message', r)), new Promise((r) => w.once('exit', r))]);
  const p2 = pattern(MiB, 2);
  const p3 = pattern(MiB, 3);
  assert.deepStrictEqual(got, [`${MiB}:${p2[0]}:${p2[MiB - 1]}`, 'small', `${MiB}:${p3[0]}:${p3[MiB - 1]}`]);
  port1.close();
});

test('adopted buffers outlive the message and many of them are freed without harm', async (t) => {
  const { port1, port2 } = new wm.MessageChannel();
  t.after(() => port1.close()); // a failed assertion must not leave a listening port behind
  const keep = [];
  const p = receive(port2, 200);
  for (let i = 0; i < 200; i++) port1.postMessage({ i, b: pattern(80000, i) });
  for (const m of await p) if (m.i % 50 === 0) keep.push(m);
  port1.close();
  for (let r = 0; r < 3; r++) {
    if (global.gc) global.gc();
    await new Promise((res) => setImmediate(res));
  }
  for (const m of keep) assert.deepStrictEqual(m.b, pattern(80000, m.i));
});

test("a received large buffer moves on through Node's own MessageChannel and structuredClone", async (t) => {
  const { port1, port2 } = new wm.MessageChannel();
  t.after(() => port1.close()); // a failed assertion must not leave a listening port behind
  const node = new (require('node:worker_threads').MessageChannel)();
  t.after(() => node.port1.close());
  const p = receive(port2, 20);
  for (let i = 0; i < 20; i++) port1.postMessage(pattern(MiB, i));
  const got = await p;
  port1.close();
  const back = [];
  const done = new Promise((resolve) => {
    node.port2.on('message', (m) => {
      back.push(m);
      if (back.length === got.length) resolve();
    });
  });
  // With the V8 shim an adopted buffer is an ordinary backing store, which Node transfers.
  // Without it, it is a Node-API external buffer, which Node 20 clones when it is named in a
  // transferList (Node 21+ would throw on one, so there the binding copies large buffers out
  // and they transfer).
  const moves = require(path.join(PKG, 'webmessaging.node')).arrayBufferTransfer() === 'move';
  const cloned = !moves && Number(process.versions.node.split('.')[0]) <= 20;
  for (const m of got) {
    assert.deepStrictEqual(new Uint8Array(structuredClone(m.buffer)), m);
    node.port1.postMessage(m, [m.buffer]);
    assert.strictEqual(m.byteLength, cloned ? MiB : 0);
  }
  await done;
  node.port1.close();
  back.forEach((m, i) => assert.deepStrictEqual(m, pattern(MiB, i)));
});
