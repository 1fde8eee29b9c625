'use strict';
// worker_threads: Node's transfer list cannot carry our ports, so they move as tokens
// (exportPort here, importPort in the worker). Messages and further port transfers then flow
// between threads; a worker exits cleanly; a terminated worker gets no deliveries (its env's
// cleanup hook closes its ports, so the other side sees 'close').
const { test } = require('node:test');
const assert = require('node:assert');
const { Worker } = require('node:worker_threads');
const { PKG } = require('./helpers');
const wm = require(PKG);

function worker(src, workerData) {
  return new Worker(`const wm = require(${JSON.stringify(PKG)});\n${src}`,
                    { eval: true, workerData });
}

function once(emitter, name) {
  return new Promise((resolve) => emitter.once(name, (...a) => resolve(a)));
}

test('a port moved into a worker: messages both ways, port transfers, clean exit', async () => {
  const { port1, port2 } = new wm.MessageChannel();
  const w = worker(`
    const { workerData } = require('worker_threads');
    const port = wm.importPort(workerData.token);
    port.on('message', (m) => {
      if (m.cmd === 'echo') port.postMessage({ echo: m.value });
      if (m.cmd === 'reply-on') { m.reply.postMessage('via transferred port'); m.reply.close(); }
      if (m.cmd === 'bye') port.close();
    });`, { token: wm.exportPort(port2) });
  assert.throws(() => port2.postMessage('x', [port2]), { name: 'DataCloneError' });
  const exited = once(w, 'exit');
  port1.postMessage({ cmd: 'echo', value: { deep: [1, 2n, new Map([[1, 2]])] } });
  const [echo] = await once(port1, 'message');
  assert.deepStrictEqual(echo, { echo: { deep: [1, 2n, new Map([[1, 2]])] } });

  const reply = new wm.MessageChannel();
  const got = [];
  reply.port1.on('message', (v) => got.push(v)); // keeps the loop alive until 'close'
  const replyClosed = once(reply.port1, 'close');
  port1.postMessage({ cmd: 'reply-on', reply: reply.port2 }, [reply.port2]);
  await replyClosed;
  assert.deepStrictEqual(got, ['via transferred port']);

  const closed = once(port1, 'close');
  port1.postMessage({ cmd: 'bye' });
  await closed;
  const [code] = await exited;
  assert.strictEqual(code, 0);
});

test('a port created in the worker is transferred back out', async () => {
  const { port1, port2 } = new wm.MessageChannel();
  const w = worker(`
    const { workerData } = require('worker_threads');
    const port = wm.importPort(workerData.token);
    const inner = new wm.MessageChannel();
    inner.port1.on('message', (v) => { inner.port1.postMessage('worker saw ' + v); inner.port1.close(); port.close(); });
    port.postMessage({ hello: inner.port2 }, [inner.port2]);`, { token: wm.exportPort(port2) });
  const exited = once(w, 'exit'); // before anything is awaited: the worker may end first
  const [msg] = await once(port1, 'message');
  const p = msg.hello;
  assert.ok(p instanceof wm.MessagePort);
  const got = [];
  p.on('message', (v) => got.push(v));
  const closed = once(p, 'close');
  p.postMessage('ping');
  await closed;
  assert.deepStrictEqual(got, ['worker saw ping']);
  port1.close();
  const [code] = await exited;
  assert.strictEqual(code, 0);
});

test('4 workers x 50,000 messages each, in order, none lost', async () => {
  const N = 50000;
  const runs = [];
  for (let k = 0; k < 4; k++) {
    const { port1, port2 } = new wm.MessageChannel();
    const w = worker(`
      const { workerData } = require('worker_threads');
      const port = wm.importPort(workerData.token);
      for (let i = 0; i < workerData.n; i++) port.postMessage(i);
      port.close();`, { token: wm.exportPort(port2), n: N });
    runs.push(new Promise((resolve, reject) => {
      let next = 0;
      port1.on('message', (v) => {
        if (v !== next) reject(new Error(`worker ${k}: got ${v}, expected ${next}`));
        next++;
      });
      port1.on('close', () => resolve(next));
      w.on('error', reject);
    }));
  }
  const counts = await Promise.all(runs);
  assert.deepStrictEqual(counts, [N, N, N, N]);
});

test('a terminated worker gets no deliveries; its ports close (env cleanup hook)', async () => {
  const { port1, port2 } = new wm.MessageChannel();
  const w = worker(`
    const { workerData, parentPort } = require('worker_threads');
    const port = wm.importPort(workerData.token);
    let n = 0;
    port.on('message', () => { n++; });
    parentPort.postMessage('ready');
    setInterval(() => {}, 1000);`, { token: wm.exportPort(port2) });
  await once(w, 'message');
  port1.postMessage('before terminate');
  const closed = once(port1, 'close');
  // port1 has no 'message' listener, so (as in Node) nothing of ours keeps the loop alive
  // while the close record is on its way: a timer does, for the test.
  const guard = setTimeout(() => {}, 20000);
  await w.terminate();
  await closed; // the worker's port was closed by the cleanup hook
  clearTimeout(guard);
  // Posting now goes nowhere and must not crash or throw.
  for (let i = 0; i < 100; i++) port1.postMessage(i);
  assert.strictEqual(port1.hasRef(), false);
});

test('importPort claims a token once; exportPort detaches the port', () => {
  const { port1, port2 } = new wm.MessageChannel();
  const token = wm.exportPort(port2);
  assert.throws(() => wm.exportPort(port2), { name: 'DataCloneError' });
  const p = wm.importPort(token);
  assert.throws(() => wm.importPort(token), { name: 'DataCloneError' });
  port1.postMessage('hi');
  assert.deepStrictEqual(wm.receiveMessageOnPort(p), { message: 'hi' });
  p.close();
  port1.close();
});

test('BroadcastChannel: channels of one name hear each other across threads', async () => {
  const bc = new wm.BroadcastChannel('across-threads');
  const heard = [];
  const done = new Promise((resolve) => {
    bc.onmessage = (e) => {
      heard.push(e.data);
      if (e.data === 'worker: bye') resolve();
      else if (e.data === 'worker: ready') bc.postMessage('main: hello');
    };
  });
  const w = worker(`
    const bc = new wm.BroadcastChannel('across-threads');
    bc.onmessage = (e) => { if (e.data === 'main: hello') { bc.postMessage('worker: bye'); bc.close(); } };
    bc.postMessage('worker: ready');`);
  const exited = once(w, 'exit');
  await done;
  bc.close();
  const [code] = await exited;
  assert.strictEqual(code, 0);
  assert.deepStrictEqual(heard, ['worker: ready', 'worker: bye']);
});
