'use strict';
// Issue 11 items 3, 4 and 6: the core's extras in Node's idiom (capacity, bounded posts,
// metrics, the close reason), the standard where Node falls short, and Node's conventions that
// are not traces (those are in diff/scenarios/37-38).
const { test } = require('node:test');
const assert = require('node:assert');
const util = require('node:util');
const { PKG } = require('./helpers');
const wm = require(PKG);

const isDataCloneError = (e) => e instanceof DOMException && e.name === 'DataCloneError' && e.code === 25;

test('setCapacity bounds tryPost; postMessage stays unbounded; metrics count it all', () => {
  const { port1, port2 } = new wm.MessageChannel();
  port2.setCapacity({ maxMessages: 2 });
  assert.strictEqual(port1.tryPost('a'), true);
  assert.strictEqual(port1.tryPost({ b: 1 }), true);
  const ab = new ArrayBuffer(4);
  assert.strictEqual(port1.tryPost('c', [ab]), false);
  assert.strictEqual(ab.byteLength, 4, 'nothing detached when full');
  port1.postMessage('d'); // unbounded, as on the web
  const m = port2.metrics();
  assert.strictEqual(m.depth, 3);
  assert.strictEqual(m.enqueued, 3);
  assert.ok(port1.metrics().posted >= 3); // the core also counts the refused tryPost (see report)
  assert.deepStrictEqual(wm.receiveMessageOnPort(port2), { message: 'a' });
  assert.strictEqual(port2.metrics().delivered, 1);
  port2.setCapacity({}); // no limit
  assert.strictEqual(port1.tryPost('e', [ab]), true);
  assert.strictEqual(ab.byteLength, 0);
  port1.close();
});

test('postWithTimeout waits for room, or rejects with a TimeoutError having sent nothing', async () => {
  const { port1, port2 } = new wm.MessageChannel();
  port2.setCapacity({ maxMessages: 1 });
  port1.postMessage('fill');
  await assert.rejects(port1.postWithTimeout('late', 30), (e) => e instanceof DOMException && e.name === 'TimeoutError');
  assert.strictEqual(port2.metrics().depth, 1);
  const sent = port1.postWithTimeout('waited', 2000);
  setTimeout(() => wm.receiveMessageOnPort(port2), 20);
  await sent;
  assert.deepStrictEqual(wm.receiveMessageOnPort(port2), { message: 'waited' });
  port1.close();
});

test("'close' carries reason and byPeer, local end first", async () => {
  const { port1, port2 } = new wm.MessageChannel();
  const seen = [];
  port1.on('close', (e) => seen.push(['port1', e.reason, e.byPeer]));
  port2.on('close', (e) => seen.push(['port2', e.reason, e.byPeer]));
  port1.close();
  await new Promise((r) => setTimeout(r, 50));
  assert.deepStrictEqual(seen, [['port1', 'closed', false], ['port2', 'closed', true]]);
  const c = new wm.MessageChannel();
  const gone = new Promise((r) => c.port1.once('close', r));
  wm.exportPort(c.port1);
  const e = await gone;
  assert.strictEqual(e.reason, 'transferred');
  assert.strictEqual(e.byPeer, false);
  c.port2.close();
});

test('standard: a detached ArrayBuffer in a transfer list is a DataCloneError', () => {
  const { port1 } = new wm.MessageChannel();
  const ab = new ArrayBuffer(8);
  port1.postMessage(0, [ab]);
  assert.throws(() => port1.postMessage(1, [ab]), isDataCloneError);
  port1.postMessage(2, [new ArrayBuffer(0)]); // empty but not detached: fine
  port1.close();
});

test('standard: a posted undefined arrives as undefined', () => {
  const { port1, port2 } = new wm.MessageChannel();
  port1.postMessage(undefined);
  port1.postMessage(undefined, []);
  assert.deepStrictEqual(wm.receiveMessageOnPort(port2), { message: undefined });
  assert.deepStrictEqual(wm.receiveMessageOnPort(port2), { message: undefined });
  port1.close();
});

test('standard: window.postMessage(message) means targetOrigin "/" from the window itself', async () => {
  const w = new wm.Window('https://a.test');
  const got = new Promise((r) => { w.onmessage = (e) => r(e); });
  w.postMessage('hi');
  const e = await got;
  assert.strictEqual(e.data, 'hi');
  assert.strictEqual(e.origin, 'https://a.test');
  assert.strictEqual(e.source, w);
  assert.ok(e instanceof wm.MessageEvent);
  w.close();
});

test('a SharedArrayBuffer is a DataCloneError saying why', () => {
  const { port1 } = new wm.MessageChannel();
  assert.throws(() => port1.postMessage({ s: new SharedArrayBuffer(8) }),
                (e) => isDataCloneError(e) && /SharedArrayBuffer/.test(e.message) && /exportPort|copy/.test(e.message));
  const bc = new wm.BroadcastChannel('sab');
  assert.throws(() => bc.postMessage(new Int32Array(new SharedArrayBuffer(8))), isDataCloneError);
  bc.close();
  port1.close();
});

test('our ports and windows are accepted as MessageEvent source and ports', () => {
  const { port1, port2 } = new wm.MessageChannel();
  const e = new wm.MessageEvent('message', { data: 1, source: port1, ports: [port2] });
  assert.strictEqual(e.source, port1);
  assert.strictEqual(e.ports[0], port2);
  assert.ok(e instanceof globalThis.MessageEvent);
  const w = new wm.Window('https://b.test');
  assert.strictEqual(new wm.MessageEvent('message', { source: w }).source, w);
  assert.strictEqual(new wm.MessageEvent('message', { data: 2 }).source, null);
  w.close();
  port1.close();
});

test('util.inspect shows active/refed like Node; constructor misuse has Node codes', () => {
  const { port1 } = new wm.MessageChannel();
  assert.match(util.inspect(port1), /^MessagePort \[EventTarget\] \{\s+active: true,\s+refed: false/);
  port1.on('message', () => {});
  assert.match(util.inspect(port1), /refed: true/);
  port1.close();
  assert.match(util.inspect(port1), /active: false/);
  assert.throws(() => wm.MessagePort(), { code: 'ERR_CONSTRUCT_CALL_INVALID' });
  assert.throws(() => wm.MessageChannel(), { code: 'ERR_CONSTRUCT_CALL_REQUIRED' });
  assert.throws(() => new wm.MessageChannel().port1.postMessage(1, { transfer: null }), { code: 'ERR_INVALID_ARG_TYPE' });
});
