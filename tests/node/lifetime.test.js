'use strict';
// Process lifetime, like Node's ports (lib/internal/worker/io.js): a port with a 'message'
// listener keeps the process alive; close() or unref() releases it; a closed port never holds it.
const { test } = require('node:test');
const assert = require('node:assert');
const { runChild } = require('./helpers');

test('a port with a message listener keeps the process alive (killed by the timeout)', async () => {
  const r = await runChild(`
    const { port1, port2 } = new wm.MessageChannel();
    port2.on('message', () => {});
    console.log('listening');`, { timeout: 1500 });
  assert.strictEqual(r.code, 'killed', `exited on its own: ${JSON.stringify(r)}`);
  assert.match(r.stdout, /listening/);
});

test('onmessage keeps the process alive too', async () => {
  const r = await runChild(`
    const { port1, port2 } = new wm.MessageChannel();
    port2.onmessage = () => {};`, { timeout: 1500 });
  assert.strictEqual(r.code, 'killed');
});

test('it does not exit early: a late message is still delivered, then close() releases', async () => {
  const r = await runChild(`
    const { port1, port2 } = new wm.MessageChannel();
    port2.on('message', (v) => { console.log('got', v); port2.close(); });
    const t = setTimeout(() => {}, 0); // nothing else keeps the loop alive after this
    require('worker_threads');
    const { Worker } = require('worker_threads');
    const w = new Worker(\`
      const { workerData } = require('worker_threads');
      const wm = require(workerData.pkg);
      const p = wm.importPort(workerData.token);
      setTimeout(() => { p.postMessage('late'); p.close(); }, 300);
    \`, { eval: true, workerData: { pkg: ${JSON.stringify(require('./helpers').PKG)}, token: wm.exportPort(port1) } });
    w.unref();`);
  assert.strictEqual(r.code, 0, JSON.stringify(r));
  assert.match(r.stdout, /got late/);
});

test('close() releases the process', async () => {
  const r = await runChild(`
    const { port1, port2 } = new wm.MessageChannel();
    port2.on('message', () => {});
    setTimeout(() => { port2.close(); console.log('closed'); }, 100);`);
  assert.strictEqual(r.code, 0, JSON.stringify(r));
  assert.match(r.stdout, /closed/);
});

test('unref() releases the process even with a listener', async () => {
  const r = await runChild(`
    const { port1, port2 } = new wm.MessageChannel();
    port2.on('message', () => {});
    port2.unref();
    console.log('hasRef', port2.hasRef());`);
  assert.strictEqual(r.code, 0, JSON.stringify(r));
  assert.match(r.stdout, /hasRef false/);
});

test('removing the last listener releases the process', async () => {
  const r = await runChild(`
    const { port1, port2 } = new wm.MessageChannel();
    const f = () => {};
    port2.on('message', f);
    setTimeout(() => port2.off('message', f), 50);`);
  assert.strictEqual(r.code, 0, JSON.stringify(r));
});

test('a port without listeners does not keep the process alive', async () => {
  const r = await runChild(`
    const { port1, port2 } = new wm.MessageChannel();
    port1.postMessage('x');
    port2.start();`);
  assert.strictEqual(r.code, 0, JSON.stringify(r));
});

test('a closed port never keeps the process alive, even after ref()', async () => {
  const r = await runChild(`
    const { port1, port2 } = new wm.MessageChannel();
    port2.close();
    port2.ref();
    port2.on('message', () => {});
    setImmediate(() => console.log('hasRef', port2.hasRef()));`);
  assert.strictEqual(r.code, 0, JSON.stringify(r));
  assert.match(r.stdout, /hasRef false/);
});

test('the peer closing releases a listening port (after its messages)', async () => {
  const r = await runChild(`
    const { port1, port2 } = new wm.MessageChannel();
    port2.on('message', (v) => console.log('got', v));
    port2.on('close', () => console.log('close'));
    port1.postMessage(1);
    port1.postMessage(2);
    setTimeout(() => port1.close(), 50);`);
  assert.strictEqual(r.code, 0, JSON.stringify(r));
  assert.deepStrictEqual(r.stdout.trim().split('\n'), ['got 1', 'got 2', 'close']);
});

test('a port collected by the garbage collector closes its channel (the peer sees close)', async () => {
  const r = await runChild(`
    const { port1 } = (() => { const c = new wm.MessageChannel(); c.port2.postMessage('last words'); return { port1: c.port1 }; })();
    port1.on('message', (v) => console.log('got', v));
    port1.on('close', () => console.log('close'));
    setTimeout(() => { global.gc(); }, 50);
    setTimeout(() => { console.log('timeout'); port1.close(); }, 5000).unref();`, { args: ['--expose-gc'] });
  assert.strictEqual(r.code, 0, JSON.stringify(r));
  assert.deepStrictEqual(r.stdout.trim().split('\n'), ['got last words', 'close']);
});
