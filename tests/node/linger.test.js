'use strict';
// Lingering (setLinger): after its deliveries a thread watches its event loop for a short
// window before the loop sleeps. These tests pin what it must and must not do: every message
// still arrives, in order; 0 turns it off; a thread whose messages come far apart stops
// lingering after three empty windows; the argument is checked as Node checks its own.
const { test } = require('node:test');
const assert = require('node:assert');
const { Worker } = require('node:worker_threads');
const { PKG } = require('./helpers');
const wm = require(PKG);

// An echo worker on our port; resolves with the main side's port once it listens.
async function echoWorker() {
  const { port1, port2 } = new wm.MessageChannel();
  const worker = new Worker(`
    const { workerData, parentPort } = require('node:worker_threads');
    const port = require(workerData.pkg).importPort(workerData.token);
    port.on('message', (m) => { if (m === 'bye') port.close(); else port.postMessage(m); });
    parentPort.postMessage('ready');
  `, { eval: true, workerData: { pkg: PKG, token: wm.exportPort(port2) } });
  await new Promise((resolve) => worker.once('message', resolve));
  return { port: port1, worker };
}

// `count` round trips through `port`; resolves with the replies in arrival order.
function pingPong(port, count) {
  return new Promise((resolve) => {
    const got = [];
    port.on('message', function onReply(m) {
      got.push(m);
      if (got.length === count) {
        port.off('message', onReply);
        resolve(got);
      } else {
        port.postMessage({ i: got.length });
      }
    });
    port.postMessage({ i: 0 });
  });
}

async function withLinger(us, fn) {
  const previous = wm.setLinger(us);
  try {
    return await fn();
  } finally {
    wm.setLinger(previous);
  }
}

test('setLinger returns the previous window and checks its argument as Node does', () => {
  const previous = wm.setLinger(20);
  try {
    assert.strictEqual(typeof previous, 'number');
    assert.strictEqual(wm.setLinger(0), 20);
    assert.strictEqual(wm.setLinger(1000), 0);
    for (const bad of ['50', null, undefined, {}, 5n]) {
      assert.throws(() => wm.setLinger(bad), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    }
    for (const bad of [-1, 1.5, NaN, Infinity, 1001]) {
      assert.throws(() => wm.setLinger(bad), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    }
    assert.strictEqual(wm.setLinger(1000), 1000, 'a refused value changes nothing');
  } finally {
    wm.setLinger(previous);
  }
});

test('a thread that lingers catches replies, and every message still arrives in order', async () => {
  const { port, worker } = await echoWorker();
  await withLinger(1000, async () => {
    const before = wm._lingerCounts();
    const got = await pingPong(port, 300);
    assert.deepStrictEqual(got, Array.from({ length: 300 }, (_, i) => ({ i })));
    const after = wm._lingerCounts();
    assert.ok(after.hits > before.hits, `a reply came while the main thread lingered (${JSON.stringify(after)})`);
  });
  port.postMessage('bye');
  await new Promise((resolve) => worker.once('exit', resolve));
});

test('a lingering thread still runs its timers during a long exchange', async () => {
  const { port, worker } = await echoWorker();
  await withLinger(1000, async () => {
    let ticks = 0;
    const interval = setInterval(() => { ticks++; }, 1);
    const t0 = performance.now();
    const got = await pingPong(port, 5000);
    const ms = performance.now() - t0;
    clearInterval(interval);
    assert.strictEqual(got.length, 5000);
    // Nearly every reply comes within the window, and the thread delivers it inside the same
    // wake-up; the event loop must still get its turns (at the latest when the wake-up's time
    // budget runs out), so a 1 ms timer fires about once per millisecond or two.
    assert.ok(ticks >= Math.floor(ms / 10), `${ticks} timer ticks in ${ms.toFixed(1)} ms of round trips`);
  });
  port.postMessage('bye');
  await new Promise((resolve) => worker.once('exit', resolve));
});

test('setLinger(0) turns lingering off', async () => {
  const { port, worker } = await echoWorker();
  await withLinger(0, async () => {
    const before = wm._lingerCounts();
    const got = await pingPong(port, 200);
    assert.strictEqual(got.length, 200);
    assert.deepStrictEqual(wm._lingerCounts(), before, 'no window was opened');
  });
  port.postMessage('bye');
  await new Promise((resolve) => worker.once('exit', resolve));
});

test('a thread whose messages come far apart stops lingering after three empty windows', async () => {
  // The receiving thread is a fresh worker, so its counts are its own.
  await withLinger(1000, async () => {
    const { port1, port2 } = new wm.MessageChannel();
    const worker = new Worker(`
      const { workerData, parentPort } = require('node:worker_threads');
      const wm = require(workerData.pkg);
      const port = wm.importPort(workerData.token);
      let n = 0;
      port.on('message', () => {
        if (++n === 10) {
          parentPort.postMessage(wm._lingerCounts());
          port.close();
        }
      });
      parentPort.postMessage('ready');
    `, { eval: true, workerData: { pkg: PKG, token: wm.exportPort(port2) } });
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    await new Promise((resolve) => worker.once('message', resolve));
    const counts = new Promise((resolve) => worker.once('message', resolve));
    for (let i = 0; i < 10; i++) {
      port1.postMessage(i);
      await new Promise((resolve) => setTimeout(resolve, 20)); // 20 ms apart: beyond any window
    }
    const { hits, misses } = await counts;
    assert.ok(misses >= 1, `the worker lingered at first (${hits} hits, ${misses} misses)`);
    assert.ok(misses <= 3, `then stopped: ${misses} empty windows for 10 messages 20 ms apart`);
    port1.close();
    await exited;
  });
});
