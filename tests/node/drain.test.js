'use strict';
// The one native drain: `drain(id, max)` takes events from a port, a BroadcastChannel or a
// Window (each a core MessageEventTarget) in the same batch layout; a window's events add their
// origin and source window id to their extras entry, and an id that names nothing here ends the
// batch with code 3 ("gone").
const { test } = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { PKG } = require('./helpers');
const wm = require(PKG);
const native = require(path.join(PKG, 'webmessaging.node'));

// A drain result as { end, messages (Buffers), extras }.
function read(r) {
  if (r === null) return null;
  const buf = typeof r === 'number' ? wm._recvScratch : Array.isArray(r) ? r[0] : r;
  const end = buf.readUInt32LE(0);
  const count = buf.readUInt32LE(4);
  const base = 8 + 4 * count;
  const messages = [];
  for (let i = 0; i < count; i++) {
    const start = i === 0 ? 0 : buf.readUInt32LE(4 + 4 * i);
    messages.push(Buffer.from(buf.subarray(base + start, base + buf.readUInt32LE(8 + 4 * i))));
  }
  return { end, messages, extras: Array.isArray(r) ? r[1] : null };
}

test('drain takes a window\'s events with their origin and source window id', () => {
  const target = native.windowOpen('https://a.test');
  const sender = native.windowOpen('https://b.test');
  native.windowPost(target.id, Buffer.from('one'), 3, '*', sender.id, undefined);
  native.windowPost(target.id, Buffer.from('two'), 3, 'https://a.test', sender.id, undefined);
  const b = read(native.drain(target.id, 10));
  assert.deepStrictEqual(b.messages.map(String), ['one', 'two']);
  assert.strictEqual(b.end, 0);
  assert.deepStrictEqual(b.extras, [
    [0, null, null, 'https://b.test', sender.id],
    [1, null, null, 'https://b.test', sender.id],
  ]);
  assert.strictEqual(native.drain(target.id, 10), null);
});

test('drain takes a broadcast channel\'s messages in the port batch layout, without origin', () => {
  const a = native.broadcastOpen('drain-test');
  const b = native.broadcastOpen('drain-test');
  native.broadcastPost(a.id, Buffer.from('hi'), 2);
  native.broadcastPost(a.id, Buffer.from('there'), 5);
  const got = read(native.drain(b.id, 10));
  assert.deepStrictEqual(got.messages.map(String), ['hi', 'there']);
  assert.strictEqual(got.extras, null);
  assert.strictEqual(got.end, 0);
  native.broadcastClose(a.id);
  native.broadcastClose(b.id);
});

test('drain of a port ends with its close record; an id that names nothing is gone (3)', () => {
  const { port1, port2 } = new wm.MessageChannel();
  const idOf = (p) => p[Object.getOwnPropertySymbols(p).find((s) => s.description === 'webmessaging.id')];
  port1.postMessage('x');
  port1.close();
  const got = read(native.drain(idOf(port2), 10));
  assert.strictEqual(got.messages.length, 1);
  assert.strictEqual(got.end & 0xff, 2); // closed by the peer
  assert.strictEqual(read(native.drain(0xfffffff0, 10)).end, 3);
});
