'use strict';
// Issue 11 item 6: our ports appear to async_hooks as MESSAGEPORT resources, as Node's do, and
// their events run in the async context the port was created in (so an AsyncLocalStorage store
// active at creation is the one the listeners see). Each case runs on Node's built-in ports too,
// so the test pins parity, not only our reading of it.
const { test } = require('node:test');
const assert = require('node:assert');
const async_hooks = require('node:async_hooks');
const wt = require('node:worker_threads');
const { PKG } = require('./helpers');
const wm = require(PKG);

const impls = [['webmessaging', wm], ['node', wt]];

for (const [name, impl] of impls) {
  test(`${name}: each port of a channel is a MESSAGEPORT resource, destroyed once closed`, async () => {
    const inits = new Map();
    const destroyed = new Set();
    const hook = async_hooks.createHook({
      init(id, type) { if (type === 'MESSAGEPORT') inits.set(id, type); },
      destroy(id) { if (inits.has(id)) destroyed.add(id); },
    }).enable();
    let ids;
    try {
      const { port1, port2 } = new impl.MessageChannel();
      ids = [...inits.keys()];
      assert.strictEqual(ids.length, 2, 'one MESSAGEPORT init per port');
      const seen = new Promise((resolve) => port2.on('message', () => resolve(async_hooks.executionAsyncId())));
      port1.postMessage('x');
      assert.ok(ids.includes(await seen), 'the listener runs in one of the channel\'s resources');
      port1.close();
      await new Promise((resolve) => port2.once('close', resolve));
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      hook.disable();
    }
    assert.ok(ids.some((id) => destroyed.has(id)), 'a closed port\'s resource is destroyed');
  });

  test(`${name}: a listener sees the AsyncLocalStorage store of the port's creation`, async () => {
    const als = new async_hooks.AsyncLocalStorage();
    const { port1, port2 } = als.run({ creator: name }, () => new impl.MessageChannel());
    const got = new Promise((resolve) => port2.on('message', (data) => resolve([data, als.getStore()])));
    als.run({ poster: true }, () => port1.postMessage('hi'));
    assert.deepStrictEqual(await got, ['hi', { creator: name }]);
    const closed = new Promise((resolve) => port2.once('close', () => resolve(als.getStore())));
    port1.close();
    assert.deepStrictEqual(await closed, { creator: name }, '\'close\' runs in that context too');
    als.disable();
  });
}

for (const [name, impl] of impls) {
  test(`${name}: a received port's listener sees the store of the wake-up that delivered it`, async () => {
    const als = new async_hooks.AsyncLocalStorage();
    const outer = als.run('outer', () => new impl.MessageChannel());
    const inner = als.run('inner', () => new impl.MessageChannel());
    const got = new Promise((resolve) => {
      outer.port2.onmessage = (ev) => {
        const received = ev.ports[0];
        received.on('message', () => { resolve(als.getStore()); received.close(); });
        outer.port2.close();
      };
    });
    outer.port1.postMessage(null, [inner.port2]);
    inner.port1.postMessage('through');
    // The received port object is made while its message is read, before the outer port's
    // listener runs: not in the outer port's context nor in the original port's.
    assert.strictEqual(await got, undefined);
    outer.port1.close();
    inner.port1.close();
    als.disable();
  });
}
