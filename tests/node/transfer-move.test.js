'use strict';
// A transferred ArrayBuffer moves its memory (the V8 backing store) instead of being copied:
// the bytes arrive, the sender's buffer is detached, the receiver owns and may write the same
// memory (in this thread or a worker), and nothing is copied on the way (the process's peak
// RSS does not grow by the buffer's size). Backing stores queued in a message are freed when
// the message is dropped unreceived, and thousands of transfers keep memory bounded. Bad
// transfer lists stay DataCloneErrors with nothing posted or detached.
const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { PKG, runChild } = require('./helpers');
const wm = require(PKG);

const native = require(path.join(PKG, 'webmessaging.node'));
const MiB = 1 << 20;

function pattern(n, seed) {
  const u8 = new Uint8Array(n);
  for (let i = 0; i < n; i++) u8[i] = (i * 31 + seed) & 255;
  return u8;
}

// Runs `code` in a child node (with --expose-gc) and returns the JSON its last line prints.
async function child(code, timeout = 60000) {
  const r = await runChild(code, { args: ['--expose-gc'], timeout });
  assert.strictEqual(r.code, 0, `child failed:\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

// The worker side of the main -> worker cases: imports the port, and answers each buffer it
// gets with its checksum, after writing its first byte, transferring it back.
const ECHO_WORKER = `
  const { Worker } = require('node:worker_threads');
  function echoWorker(port) {
    return new Worker(\`
      const wm = require(\${JSON.stringify(${JSON.stringify(PKG)})});
      const port = wm.importPort(require('node:worker_threads').workerData);
      port.on('message', (u8) => {
        if (u8 === 'bye') { port.close(); return; }
        let sum = 0;
        for (let i = 0; i < u8.length; i += 4096) sum = (sum + u8[i]) | 0;
        u8[0] = 0xee;
        port.postMessage({ sum, u8, len: u8.length }, [u8.buffer]);
      });\`, { eval: true, workerData: wm.exportPort(port) });
  }`;

test('the build says which path a transfer takes, and moves where Node\'s headers are', (t) => {
  const mode = native.arrayBufferTransfer();
  assert.ok(mode === 'move' || mode === 'copy', mode);
  t.diagnostic(`transferred ArrayBuffers: ${mode}`);
  const headers = [
    process.env.WEBMESSAGING_NODE_INCLUDE,
    path.join(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
  ].filter(Boolean);
  if (!headers.some((d) => fs.existsSync(path.join(d, 'v8.h')))) {
    t.skip('no Node headers here: the addon copies transferred buffers');
    return;
  }
  assert.strictEqual(mode, 'move', 'Node\'s headers are here, yet the addon was built without the V8 shim');
});

test('same thread: a transferred buffer arrives with its bytes, the sender\'s is detached, the receiver writes it', async () => {
  const { port1, port2 } = new wm.MessageChannel();
  const sent = pattern(MiB, 3);
  const u8 = sent.slice();
  const view = new Float64Array(u8.buffer, 8, 4);
  port1.postMessage({ u8, view }, [u8.buffer]);
  assert.strictEqual(u8.byteLength, 0);
  assert.strictEqual(u8.buffer.byteLength, 0);
  assert.strictEqual(view.length, 0);
  const { message } = wm.receiveMessageOnPort(port2);
  assert.deepStrictEqual(message.u8, sent);
  assert.strictEqual(message.view.buffer, message.u8.buffer, 'both views share the one buffer');
  message.u8[0] = 0xab;
  message.view[0] = 1.5;
  assert.strictEqual(message.u8[0], 0xab);
  assert.strictEqual(new Float64Array(message.u8.buffer, 8, 1)[0], 1.5);
  // And on again, through the event path, twice (a received buffer is transferable).
  const again = new Promise((resolve) => port2.once('message', resolve));
  port1.postMessage(message.u8, [message.u8.buffer]);
  assert.strictEqual(message.u8.byteLength, 0);
  const back = await again;
  assert.strictEqual(back[0], 0xab);
  assert.deepStrictEqual(back.subarray(16), sent.subarray(16));
  port1.close();
});

test('main -> worker and back: the bytes, the worker\'s write, and detached senders', async () => {
  const { port1, port2 } = new wm.MessageChannel();
  const { Worker } = require('node:worker_threads');
  const w = new Worker(`
    const wm = require(${JSON.stringify(PKG)});
    const port = wm.importPort(require('node:worker_threads').workerData);
    port.on('message', (u8) => {
      if (u8 === 'bye') { port.close(); return; }
      let sum = 0;
      for (let i = 0; i < u8.length; i++) sum = (sum + u8[i]) | 0;
      u8[0] = 0xee;
      port.postMessage({ sum, u8 }, [u8.buffer]);
      if (u8.byteLength !== 0) throw new Error('the worker\\'s buffer was not detached');
    });`, { eval: true, workerData: wm.exportPort(port2) });
  const exited = new Promise((resolve) => w.once('exit', resolve));
  for (let k = 0; k < 5; k++) {
    const sent = pattern(MiB + k, k);
    const u8 = sent.slice();
    const reply = new Promise((resolve) => port1.once('message', resolve));
    port1.postMessage(u8, [u8.buffer]);
    assert.strictEqual(u8.byteLength, 0);
    const m = await reply;
    assert.strictEqual(m.sum, sent.reduce((a, b) => (a + b) | 0, 0));
    assert.strictEqual(m.u8[0], 0xee);
    assert.deepStrictEqual(m.u8.subarray(1), sent.subarray(1));
  }
  port1.postMessage('bye');
  assert.strictEqual(await exited, 0);
  port1.close();
});

test('buffers made in a worker outlive it in the main thread (their memory is not the worker\'s to free)', async () => {
  const { port1, port2 } = new wm.MessageChannel();
  const { Worker } = require('node:worker_threads');
  const w = new Worker(`
    const wm = require(${JSON.stringify(PKG)});
    const port = wm.importPort(require('node:worker_threads').workerData);
    for (let k = 0; k < 8; k++) {
      const u8 = new Uint8Array(${MiB});
      for (let i = 0; i < u8.length; i++) u8[i] = (i * 31 + k) & 255;
      port.postMessage(u8, [u8.buffer]);
    }
    port.close();`, { eval: true, workerData: wm.exportPort(port2) });
  assert.strictEqual(await new Promise((resolve) => w.once('exit', resolve)), 0);
  // The worker is gone, with its isolate and its environment; its buffers are ours now.
  const got = [];
  for (let m; (m = wm.receiveMessageOnPort(port1)) !== undefined;) got.push(m.message);
  assert.strictEqual(got.length, 8);
  got.forEach((u8, k) => {
    assert.deepStrictEqual(u8, pattern(MiB, k));
    u8.fill(k);
  });
  // And on to another thread (Node's own port), after the worker that made them (a copying
  // build hands out Node-API external buffers, which Node's ports clone instead).
  if (native.arrayBufferTransfer() !== 'move') {
    port1.close();
    return;
  }
  const node = new (require('node:worker_threads').MessageChannel)();
  node.port1.postMessage(got[3], [got[3].buffer]);
  const moved = require('node:worker_threads').receiveMessageOnPort(node.port2).message;
  assert.strictEqual(got[3].byteLength, 0);
  assert.deepStrictEqual(moved, new Uint8Array(MiB).fill(3));
  node.port1.close();
  port1.close();
});

// The peak RSS of a child moving a 128 MiB buffer: a copy would add its size.
test('nothing is copied: moving 128 MiB (same thread, then to a worker and back) leaves the peak RSS flat', async (t) => {
  const got = await child(`
    ${ECHO_WORKER}
    const N = 128 << 20;
    const u8 = new Uint8Array(N);
    for (let i = 0; i < N; i += 4096) u8[i] = (i >> 12) & 255; // every page touched
    global.gc();
    const before = process.resourceUsage().maxRSS;
    const { port1, port2 } = new wm.MessageChannel();
    port1.postMessage(u8, [u8.buffer]);
    const m = wm.receiveMessageOnPort(port2).message;
    let ok = u8.byteLength === 0 && m.length === N;
    for (let i = 0; i < N; i += 4096) if (m[i] !== ((i >> 12) & 255)) ok = false;
    const sameThread = (process.resourceUsage().maxRSS - before) / 1024;
    const w = echoWorker(port2);
    port1.once('message', (r) => {
      ok = ok && m.byteLength === 0 && r.len === N && r.u8[0] === 0xee && r.u8[4096] === 1;
      const worker = (process.resourceUsage().maxRSS - before) / 1024;
      port1.postMessage('bye');
      port1.close();
      console.log(JSON.stringify({ ok, sameThread, worker }));
    });
    port1.postMessage(m, [m.buffer]);`);
  t.diagnostic(`peak RSS growth: same thread ${got.sameThread} MiB, via a worker ${got.worker} MiB`);
  assert.ok(got.ok, 'the bytes arrived and the senders were detached');
  if (native.arrayBufferTransfer() !== 'move') return t.skip('built without the V8 shim');
  assert.ok(got.sameThread < 48, `same thread: the peak RSS grew by ${got.sameThread} MiB`);
  // A worker's own isolate and heap cost some tens of MiB; a copy would add 128.
  assert.ok(got.worker < 96, `via a worker: the peak RSS grew by ${got.worker} MiB`);
});

test('2,000 transfers of 1 MiB (same thread and to a worker) keep memory bounded', async () => {
  const got = await child(`
    ${ECHO_WORKER}
    const mem = () => { global.gc(); return process.memoryUsage(); };
    const base = mem();
    const { port1, port2 } = new wm.MessageChannel();
    for (let i = 0; i < 2000; i++) {
      const u8 = new Uint8Array(1 << 20);
      u8[i] = 1;
      port1.postMessage(u8, [u8.buffer]);
      const m = wm.receiveMessageOnPort(port2).message;
      if (m[i] !== 1 || m.length !== 1 << 20) throw new Error('bad bytes at ' + i);
      if (i % 100 === 0) global.gc();
    }
    const sameThread = mem();
    const w = echoWorker(port2);
    let n = 0;
    port1.on('message', (r) => {
      if (r.len !== 1 << 20 || r.u8[0] !== 0xee) throw new Error('bad echo');
      if (++n % 100 === 0) global.gc();
      if (n < 2000) { port1.postMessage(r.u8, [r.u8.buffer]); return; }
      port1.postMessage('bye');
      w.once('exit', () => {
        port1.close();
        const end = mem();
        const mib = (x) => Math.round(x / (1 << 20));
        console.log(JSON.stringify({
          abSame: mib(sameThread.arrayBuffers - base.arrayBuffers),
          abEnd: mib(end.arrayBuffers - base.arrayBuffers),
          rssEnd: mib(end.rss - base.rss),
        }));
      });
    });
    port1.postMessage(new Uint8Array(1 << 20), []);`, 120000);
  // 2,000 MiB went through each way; a leak would keep (most of) it.
  assert.ok(got.abSame < 64, `same thread: ${got.abSame} MiB of ArrayBuffers still held`);
  assert.ok(got.abEnd < 64, `after the worker: ${got.abEnd} MiB of ArrayBuffers still held`);
  assert.ok(got.rssEnd < 400, `RSS grew by ${got.rssEnd} MiB`);
});

test('buffers queued unreceived are freed when their port closes (same thread and in a worker)', async (t) => {
  const got = await child(`(async () => {
    const { Worker } = require('node:worker_threads');
    const ab = () => { global.gc(); return Math.round(process.memoryUsage().arrayBuffers / (1 << 20)); };
    // Memory still held, once it drops below 8 MiB or after 2 s (a closed port's queue is
    // discarded at its next turn of the event loop).
    const settled = async () => {
      for (let i = 0; i < 100 && ab() - base >= 8; i++) await new Promise((r) => setTimeout(r, 20));
      return ab() - base;
    };
    const base = ab();
    const { port1, port2 } = new wm.MessageChannel();
    for (let i = 0; i < 64; i++) {
      const u8 = new Uint8Array(1 << 20).fill(i);
      port1.postMessage(u8, [u8.buffer]);
    }
    const queued = ab() - base;
    port1.close();
    port2.close();
    const closed = await settled();
    // A worker that never listens holds 64 more; its end goes with the worker.
    const c = new wm.MessageChannel();
    const w = new Worker(\`
      const wm = require(\${JSON.stringify(${JSON.stringify(PKG)})});
      globalThis.keep = wm.importPort(require('node:worker_threads').workerData);
      setInterval(() => {}, 1000); // alive, never listening, until terminated
      require('node:worker_threads').parentPort.postMessage('ready');\`,
      { eval: true, workerData: wm.exportPort(c.port2) });
    w.once('message', async () => {
      for (let i = 0; i < 64; i++) {
        const u8 = new Uint8Array(1 << 20).fill(i);
        c.port1.postMessage(u8, [u8.buffer]);
      }
      const queuedInWorker = ab() - base;
      await w.terminate();
      c.port1.close();
      const terminated = await settled();
      console.log(JSON.stringify({ queued, closed, queuedInWorker, terminated }));
    });
  })();`);
  t.diagnostic(JSON.stringify(got));
  if (native.arrayBufferTransfer() === 'move') {
    // The queue holds the very backing stores (moved), V8's memory, until the messages go.
    assert.ok(got.queued >= 60, `queued: ${got.queued} MiB`);
    assert.ok(got.queuedInWorker >= 60, `queued for the worker: ${got.queuedInWorker} MiB`);
  }
  assert.ok(got.closed < 8, `after close: ${got.closed} MiB still held`);
  assert.ok(got.terminated < 8, `after the worker ended: ${got.terminated} MiB still held`);
});

test('bad transfer lists are DataCloneErrors with nothing posted or detached', () => {
  const { port1, port2 } = new wm.MessageChannel();
  const u8 = pattern(1024, 1);
  assert.throws(() => port1.postMessage(u8, [u8.buffer, u8.buffer]), { name: 'DataCloneError' });
  assert.strictEqual(u8.byteLength, 1024);
  const gone = new Uint8Array(8);
  port1.postMessage(gone, [gone.buffer]);
  assert.throws(() => port1.postMessage(u8, [u8.buffer, gone.buffer]), { name: 'DataCloneError' });
  assert.strictEqual(u8.byteLength, 1024);
  // A WebAssembly.Memory's buffer cannot be detached: refused before anything is sent (the V8
  // shim tells; a copying build cannot, and this check is the shim's).
  if (native.arrayBufferTransfer() !== 'move') {
    port1.close();
    return;
  }
  const memory = new WebAssembly.Memory({ initial: 1 });
  assert.throws(() => port1.postMessage({ u8, m: memory.buffer }, [u8.buffer, memory.buffer]),
                { name: 'DataCloneError' });
  assert.strictEqual(u8.byteLength, 1024);
  assert.strictEqual(memory.buffer.byteLength, 65536);
  assert.strictEqual(wm.receiveMessageOnPort(port2).message.byteLength, 8, 'only the good post arrived');
  assert.strictEqual(wm.receiveMessageOnPort(port2), undefined);
  port1.close();
});

test('a resizable buffer is transferred too (copied): its bytes arrive and the sender is detached', () => {
  const { port1, port2 } = new wm.MessageChannel();
  const ab = new ArrayBuffer(16, { maxByteLength: 64 });
  new Uint8Array(ab).set(pattern(16, 9));
  port1.postMessage(ab, [ab]);
  assert.strictEqual(ab.byteLength, 0);
  assert.deepStrictEqual(new Uint8Array(wm.receiveMessageOnPort(port2).message), pattern(16, 9));
  port1.close();
});

test('a moved buffer crosses to another process (a Node child over ipc) and comes back', async () => {
  const { child: proc, port } = wm.spawn(process.execPath, [path.join(__dirname, 'ipc-child.js')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const sent = pattern(MiB, 5);
    const u8 = sent.slice();
    const reply = new Promise((resolve) => port.once('message', resolve));
    port.postMessage({ cmd: 'echo', value: { u8 } }, [u8.buffer]);
    assert.strictEqual(u8.byteLength, 0);
    const m = await reply;
    assert.deepStrictEqual(m.value.u8, sent);
    m.value.u8[0] = 1; // ours now
    assert.strictEqual(m.value.u8[0], 1);
  } finally {
    port.close();
    proc.kill('SIGKILL');
  }
});
