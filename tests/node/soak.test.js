'use strict';
// A short soak (issue 15): several lanes whose receiving ends are referenced only by their own
// listeners — local ports, received ports, a BroadcastChannel and a port in a Worker — with
// forced garbage collection between bursts, counting every message. A collected receiver shows
// up as a lane that stops short.
const { test } = require('node:test');
const assert = require('node:assert');
const { runChild, PKG } = require('./helpers');

test('soak: listener-only lanes under forced gc lose nothing', async () => {
  const r = await runChild(`
    const { Worker } = require('worker_threads');
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const ROUNDS = 40, BURST = 200;
    const counts = {};
    const senders = [];
    function localLane(name) {
      counts[name] = 0;
      const c = new wm.MessageChannel();
      c.port2.on('message', (v) => { if (v === counts[name]) counts[name]++; });
      senders.push((v) => c.port1.postMessage(v));
    }
    function receivedLane(name) {
      counts[name] = 0;
      const carrier = new wm.MessageChannel();
      const inner = new wm.MessageChannel();
      carrier.port2.once('message', ({ port }) => {
        port.on('message', (v) => { if (v === counts[name]) counts[name]++; });
        carrier.port2.close();
      });
      carrier.port1.postMessage({ port: inner.port2 }, [inner.port2]);
      carrier.port1.close();
      senders.push((v) => inner.port1.postMessage(v));
    }
    function broadcastLane(name) {
      counts[name] = 0;
      const rx = new wm.BroadcastChannel('soak-' + name);
      rx.onmessage = (e) => { if (e.data === counts[name]) counts[name]++; };
      const tx = new wm.BroadcastChannel('soak-' + name);
      senders.push((v) => tx.postMessage(v));
    }
    let worker;
    function workerLane(name) {
      counts[name] = 0;
      const { port1, port2 } = new wm.MessageChannel();
      worker = new Worker(\`
        const { workerData } = require('worker_threads');
        const wm = require(workerData.pkg);
        // Referenced only by its listener; acknowledges each message in order.
        let n = 0;
        wm.importPort(workerData.token).on('message', function (v) {
          if (v === n) n++;
          if (v % 50 === 0) global.gc();
          this.postMessage(n);
        });
      \`, { eval: true, workerData: { pkg: ${JSON.stringify(PKG)}, token: wm.exportPort(port2) } });
      port1.on('message', (n) => { counts[name] = n; });
      senders.push((v) => port1.postMessage(v));
    }
    for (let i = 0; i < 3; i++) localLane('local' + i);
    for (let i = 0; i < 2; i++) receivedLane('received' + i);
    broadcastLane('broadcast');
    workerLane('worker');
    (async () => {
      await sleep(50);
      let v = 0;
      for (let round = 0; round < ROUNDS; round++) {
        for (let j = 0; j < BURST; j++, v++) for (const s of senders) s(v);
        global.gc();
        await sleep(5);
      }
      const want = ROUNDS * BURST;
      for (let i = 0; i < 200 && Object.values(counts).some((c) => c < want); i++) await sleep(20);
      console.log(JSON.stringify({ want, counts }));
      process.exit(0);
    })();`, { args: ['--expose-gc'], timeout: 60000 });
  assert.strictEqual(r.code, 0, JSON.stringify(r));
  const { want, counts } = JSON.parse(r.stdout.trim().split('\n').pop());
  for (const [lane, n] of Object.entries(counts)) assert.strictEqual(n, want, `lane ${lane}: ${n} of ${want}`);
});
