'use strict';
// Garbage collection and lifetime (issue 15 items 1-2): a port or BroadcastChannel that only its
// own listener references stays alive until closed (by either side), as on the web and in Node;
// channels dropped without close() are collected, their peers see 'close', and the binding's
// wake-up map does not grow. Each case runs in a child with --expose-gc.
const { test } = require('node:test');
const assert = require('node:assert');
const { runChild } = require('./helpers');

const GC = { args: ['--expose-gc'], timeout: 20000 };
const prelude = `
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function collect() { for (let i = 0; i < 5; i++) { global.gc(); await sleep(10); } }
`;

test('a port referenced only by its message listener survives gc', async () => {
  const r = await runChild(`${prelude}
    let got = 0;
    const p1 = (() => { const c = new wm.MessageChannel(); c.port2.on('message', () => got++); return c.port1; })();
    (async () => {
      p1.postMessage(1); await sleep(30); await collect();
      p1.postMessage(2); await sleep(50);
      console.log('got', got);
      p1.close();
    })();`, GC);
  assert.strictEqual(r.code, 0, JSON.stringify(r));
  assert.match(r.stdout, /got 2/);
});

test('a port referenced only by onmessage survives gc, and its close() still releases the process', async () => {
  const r = await runChild(`${prelude}
    let got = 0;
    const p1 = (() => { const c = new wm.MessageChannel(); c.port2.onmessage = () => got++; return c.port1; })();
    (async () => {
      p1.postMessage(1); await sleep(30); await collect();
      p1.postMessage(2); await sleep(50);
      console.log('got', got);
      p1.close(); // the held peer sees 'close', unrefs, and the process exits
    })();`, GC);
  assert.strictEqual(r.code, 0, JSON.stringify(r));
  assert.match(r.stdout, /got 2/);
});

test('a port received in a message and kept only by its listener survives gc', async () => {
  const r = await runChild(`${prelude}
    const lane = new wm.MessageChannel();
    const inner = new wm.MessageChannel();
    let got = 0;
    lane.port2.on('message', (d) => { d.port.on('message', () => got++); lane.port2.close(); });
    lane.port1.postMessage({ port: inner.port2 }, [inner.port2]);
    (async () => {
      await sleep(30); inner.port1.postMessage(1); await sleep(30); await collect();
      inner.port1.postMessage(2); await sleep(50);
      console.log('got', got);
      inner.port1.close();
    })();`, GC);
  assert.strictEqual(r.code, 0, JSON.stringify(r));
  assert.match(r.stdout, /got 2/);
});

test('a BroadcastChannel referenced only by onmessage survives gc', async () => {
  const r = await runChild(`${prelude}
    let got = 0;
    (() => { const b = new wm.BroadcastChannel('gc'); b.onmessage = () => got++; })();
    const s = new wm.BroadcastChannel('gc');
    (async () => {
      s.postMessage(1); await sleep(30); await collect();
      s.postMessage(2); await sleep(50);
      console.log('got', got);
      process.exit(0);
    })();`, GC);
  assert.strictEqual(r.code, 0, JSON.stringify(r));
  assert.match(r.stdout, /got 2/);
});

test('an unref()ed listening port survives gc yet lets the process exit', async () => {
  const r = await runChild(`${prelude}
    let got = 0;
    const p1 = (() => { const c = new wm.MessageChannel(); c.port2.on('message', () => got++); c.port2.unref(); return c.port1; })();
    p1.unref();
    (async () => {
      p1.postMessage(1); await sleep(30); await collect();
      p1.postMessage(2); await sleep(50);
      console.log('got', got);
    })();`, GC);
  assert.strictEqual(r.code, 0, JSON.stringify(r));
  assert.match(r.stdout, /got 2/);
});

test('a port closed and dropped at once still emits close and releases the process', async () => {
  const r = await runChild(`
    (() => {
      const c = new wm.MessageChannel();
      c.port2.on('close', () => console.log('closed'));
      c.port2.close();
    })();
    // Collect before the close record is drained: the timer is due before the loop's poll
    // phase (WeakRef targets stay alive to the end of this job, so not here).
    setTimeout(() => global.gc(), 0);
    const until = Date.now() + 20;
    while (Date.now() < until);`, GC);
  assert.strictEqual(r.code, 0, JSON.stringify(r));
  assert.match(r.stdout, /closed/);
});

test('channels dropped with a message pending are collected: peers see close, the map shrinks', async () => {
  const r = await runChild(`${prelude}
    (async () => {
      const N = 20000;
      const kept = [];
      let closes = 0;
      for (let i = 0; i < N; i++) {
        const c = new wm.MessageChannel();
        c.port1.postMessage(i); // pending in port2, which nobody references
        if (i % 100 === 0) { kept.push(c.port1); c.port1.on('close', () => closes++); }
      }
      await sleep(20);
      for (let i = 0; i < 20 && closes < kept.length; i++) await collect();
      const t = wm._tracked();
      console.log(JSON.stringify({ closes, expect: kept.length, live: t.live, held: t.held }));
    })();`, GC);
  assert.strictEqual(r.code, 0, JSON.stringify(r));
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.strictEqual(out.closes, out.expect, r.stdout);
  // Everything closed: nothing left tracked but a handful not yet finalized.
  assert.ok(out.live < 200, `live map kept ${out.live} entries`);
  assert.strictEqual(out.held, 0);
});
