'use strict';
// No message is left behind in this thread when a port moves: messages the binding already took
// from the core (a batch) but has not delivered go back to the port's queue and travel with it.
const { test } = require('node:test');
const assert = require('node:assert');
const wt = require('node:worker_threads');
const { PKG } = require('./helpers');
const wm = require(PKG);

// Transfers `b` from inside its own first 'message' listener; returns what its new owner gets.
function transferFromHandler(impl) {
  return new Promise((resolve, reject) => {
    const { port1: a, port2: b } = new impl.MessageChannel();
    const { port1: carrier, port2: receiver } = new impl.MessageChannel();
    const got = [];
    b.on('message', (v) => {
      if (v === 0) carrier.postMessage(null, [b]);
    });
    receiver.onmessage = (e) => {
      const moved = e.ports[0];
      moved.on('message', (v) => {
        got.push(v);
        if (got.length === 4) {
          for (const p of [a, moved, carrier, receiver]) p.close();
          resolve(got);
        }
      });
    };
    for (let i = 0; i < 5; i++) a.postMessage(i);
    setTimeout(() => reject(new Error(`only ${JSON.stringify(got)} arrived`)), 5000).unref();
  });
}

test('the rest of a batch travels with a port transferred from its own handler', async () => {
  assert.deepStrictEqual(await transferFromHandler(wt), [1, 2, 3, 4], "Node's built-in");
  assert.deepStrictEqual(await transferFromHandler(wm), [1, 2, 3, 4]);
});

test('the rest of a batch, ports included, travels with an exported port', async () => {
  const { port1: a, port2: b } = new wm.MessageChannel();
  const { port1: x, port2: y } = new wm.MessageChannel();
  a.postMessage('first');
  a.postMessage('carries a port', [x]);
  a.postMessage('last');
  const token = await new Promise((resolve) => {
    b.on('message', (v) => {
      if (v === 'first') resolve(wm.exportPort(b));
    });
  });
  const moved = wm.importPort(token);
  const events = [];
  await new Promise((resolve, reject) => {
    moved.onmessage = (e) => {
      events.push(e);
      if (events.length === 2) resolve();
    };
    setTimeout(() => reject(new Error(`only ${events.length} message(s) arrived`)), 5000).unref();
  });
  assert.deepStrictEqual(events.map((e) => e.data), ['carries a port', 'last']);
  const xAgain = events[0].ports[0];
  const answer = new Promise((resolve) => xAgain.once('message', resolve));
  y.postMessage('to x');
  assert.strictEqual(await answer, 'to x');
  for (const p of [a, moved, xAgain, y]) p.close();
});

test('the rest of a batch, transferred ArrayBuffers included, travels with an exported port', async () => {
  const { port1: a, port2: b } = new wm.MessageChannel();
  const ab = new Uint8Array([7, 8, 9]).buffer;
  a.postMessage('first');
  a.postMessage({ ab }, [ab]);
  a.postMessage('last');
  const token = await new Promise((resolve) => {
    b.on('message', (v) => {
      if (v === 'first') resolve(wm.exportPort(b));
    });
  });
  const moved = wm.importPort(token);
  const got = [];
  await new Promise((resolve, reject) => {
    moved.on('message', (v) => {
      got.push(v);
      if (got.length === 2) resolve();
    });
    setTimeout(() => reject(new Error(`only ${got.length} message(s) arrived`)), 5000).unref();
  });
  assert.deepStrictEqual([...new Uint8Array(got[0].ab)], [7, 8, 9]);
  assert.strictEqual(got[1], 'last');
  for (const p of [a, moved]) p.close();
});
