'use strict';
// Each message is its own task: a port delivers a whole run of messages in one crossing of the
// addon (lib/drain.js's onWake), with Node's own tick-and-microtask checkpoint between two
// messages. What a listener queues (process.nextTick callbacks, promise jobs, and whatever those
// queue in turn) runs before the next message's listener; a listener's error is the process's
// uncaught exception for that message and the later messages still arrive. Each scenario runs
// in a child process, once with our package and once with Node's built-in MessageChannel, and
// both traces must match the expected one.
const { test } = require('node:test');
const assert = require('node:assert');
const { runChild } = require('./helpers');

// Runs `body` (which uses `api` and `log`, and ends by calling `done()`) with our package and
// with worker_threads; resolves with both traces.
async function traces(body, args = []) {
  const out = {};
  for (const kind of ['ours', 'builtin']) {
    const r = await runChild(`
      const api = ${kind === 'ours' ? 'wm' : "require('worker_threads')"};
      const trace = [];
      const log = (...p) => trace.push(p.join(' '));
      const done = () => { console.log(JSON.stringify(trace)); };
      ${body}`, { args });
    assert.strictEqual(r.code, 0, `${kind}: ${JSON.stringify(r)}`);
    assert.doesNotMatch(r.stderr, /Warning/, kind);
    out[kind] = JSON.parse(r.stdout.trim().split('\n').pop());
  }
  return out;
}

test('a nextTick and a promise continuation queued by listener i run before listener i+1', async () => {
  const t = await traces(`
    const { port1, port2 } = new api.MessageChannel();
    port2.on('message', (m) => {
      log('message', m);
      process.nextTick(() => log('tick', m));
      Promise.resolve().then(() => log('promise', m));
      if (m === 3) { port2.close(); setImmediate(done); }
    });
    for (let i = 0; i < 4; i++) port1.postMessage(i);`);
  const expected = [];
  for (let m = 0; m < 4; m++) expected.push(`message ${m}`, `tick ${m}`, `promise ${m}`);
  assert.deepStrictEqual(t.ours, expected);
  assert.deepStrictEqual(t.builtin, expected);
});

test('chained microtasks and ticks queued from them all run before the next listener', async () => {
  const t = await traces(`
    const { port1, port2 } = new api.MessageChannel();
    port2.on('message', (m) => {
      log('message', m);
      Promise.resolve()
        .then(() => log('then1', m))
        .then(() => { log('then2', m); process.nextTick(() => {
          log('tick from then2', m);
          queueMicrotask(() => log('micro from tick', m));
        }); })
        .then(() => log('then3', m));
      (async () => { await null; await null; log('await2', m); })();
      if (m === 2) { port2.close(); setImmediate(done); }
    });
    for (let i = 0; i < 3; i++) port1.postMessage({ i }.i);`);
  assert.deepStrictEqual(t.ours, t.builtin);
  // Every message's whole cascade comes before the next message.
  for (let m = 0; m < 2; m++) {
    const next = t.ours.indexOf(`message ${m + 1}`);
    for (const step of ['then3', 'await2', 'micro from tick']) {
      assert.ok(t.ours.indexOf(`${step} ${m}`) < next, `${step} ${m} before message ${m + 1}: ${t.ours}`);
    }
  }
});

test('with several ports ready in one turn, the checkpoint comes between every two messages', async () => {
  const t = await traces(`
    const a = new api.MessageChannel();
    const b = new api.MessageChannel();
    let left = 6;
    for (const [name, ch] of [['a', a], ['b', b]]) {
      ch.port2.on('message', (m) => {
        log(name, m);
        process.nextTick(() => log('tick', name, m));
        queueMicrotask(() => log('micro', name, m));
        if (--left === 0) { a.port2.close(); b.port2.close(); setImmediate(done); }
      });
    }
    for (let i = 0; i < 3; i++) { a.port1.postMessage(i); b.port1.postMessage(i); }`);
  assert.deepStrictEqual(t.ours, t.builtin);
  assert.strictEqual(t.ours.length, 18);
});

test('a listener that throws on every message: one uncaughtException each, none lost, in order', async () => {
  const t = await traces(`
    const { port1, port2 } = new api.MessageChannel();
    let n = 0;
    process.on('uncaughtException', (e) => {
      log('uncaught', e.message);
      process.nextTick(() => log('tick after uncaught', e.message));
    });
    port2.on('message', (m) => {
      log('message', m);
      queueMicrotask(() => log('micro', m));
      if (++n === 5) { port2.close(); setTimeout(done, 20); }
      throw new Error('boom ' + m);
    });
    for (let i = 0; i < 5; i++) port1.postMessage(i);`);
  for (let m = 0; m < 5; m++) {
    const at = t.ours.indexOf(`message ${m}`);
    assert.ok(at >= 0, `message ${m} delivered: ${t.ours}`);
    assert.ok(t.ours.indexOf(`uncaught boom ${m}`) > at);
    if (m > 0) assert.ok(t.ours.indexOf(`uncaught boom ${m - 1}`) < at, `uncaught ${m - 1} before message ${m}`);
  }
  assert.deepStrictEqual(t.ours.filter((x) => x.startsWith('message') || x.startsWith('uncaught')),
                         t.builtin.filter((x) => x.startsWith('message') || x.startsWith('uncaught')));
});

test('a listener that throws with async_hooks enabled keeps the async context stack sound', async () => {
  const t = await traces(`
    const ah = require('async_hooks');
    let befores = 0;
    let afters = 0;
    ah.createHook({ before() { befores++; }, after() { afters++; } }).enable();
    const { port1, port2 } = new api.MessageChannel();
    process.on('uncaughtException', (e) => log('uncaught', e.message));
    port2.on('message', (m) => {
      log('message', m, ah.executionAsyncId() !== 0);
      process.nextTick(() => log('tick', m));
      if (m === 1) throw new Error('boom');
      if (m === 3) { port2.close(); setImmediate(done); }
    });
    for (let i = 0; i < 4; i++) port1.postMessage(i);`);
  assert.deepStrictEqual(t.ours, t.builtin);
});

test('under --pending-deprecation (process._tickCallback wrapped) the order is the same, unwarned', async () => {
  const t = await traces(`
    const { port1, port2 } = new api.MessageChannel();
    port2.on('message', (m) => {
      log('message', m);
      process.nextTick(() => log('tick', m));
      Promise.resolve().then(() => log('promise', m));
      if (m === 2) { port2.close(); setImmediate(done); }
    });
    for (let i = 0; i < 3; i++) port1.postMessage(i);`, ['--pending-deprecation']);
  assert.deepStrictEqual(t.ours, t.builtin);
  assert.strictEqual(t.ours.length, 9);
});

test('the order holds across a long run (several batches and crossings of the addon)', async () => {
  const t = await traces(`
    const { port1, port2 } = new api.MessageChannel();
    const N = 3500;
    let want = 0;
    let bad = null;
    const step = (what, m) => {
      const k = 3 * m + what;
      if (bad === null && k !== want) bad = what + ' ' + m + ' at ' + want;
      want++;
    };
    port2.on('message', (m) => {
      step(0, m);
      process.nextTick(() => step(1, m));
      Promise.resolve().then(() => step(2, m));
      if (m === N - 1) { port2.close(); setImmediate(() => { log(bad === null ? 'in order ' + want : 'out of order: ' + bad); done(); }); }
    });
    for (let i = 0; i < N; i++) port1.postMessage(i);`);
  assert.deepStrictEqual(t.ours, ['in order 10500']);
  assert.deepStrictEqual(t.builtin, t.ours);
});

test('a microtask or a tick that throws, queued by a listener, is one uncaughtException each, as in Node', async () => {
  const t = await traces(`
    const ah = require('async_hooks');
    ah.createHook({ before() {}, after() {} }).enable();
    const { port1, port2 } = new api.MessageChannel();
    process.on('uncaughtException', (e) => log('uncaught', e.message));
    port2.on('message', (m) => {
      log('message', m);
      if (m % 2 === 0) queueMicrotask(() => { throw new Error('micro ' + m); });
      else process.nextTick(() => { throw new Error('tick ' + m); });
      Promise.resolve().then(() => log('promise', m));
      if (m === 5) { port2.close(); setTimeout(done, 20); }
    });
    for (let i = 0; i < 6; i++) port1.postMessage(i);`);
  assert.deepStrictEqual(t.ours, t.builtin);
  assert.strictEqual(t.ours.filter((x) => x.startsWith('uncaught')).length, 6);
});
