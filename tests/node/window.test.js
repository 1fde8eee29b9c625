'use strict';
// Window: origin-checked postMessage over the core's windows (R-WIN-*): the target origin is
// checked at delivery against the target's current origin, mismatches drop silently, events
// carry the sender's origin and a source to reply to, ports ride along.
const { test } = require('node:test');
const assert = require('node:assert');
const { PKG } = require('./helpers');
const { Window, MessageChannel } = require(PKG);

function nextEvent(win) {
  return new Promise((resolve) => win.addEventListener('message', resolve, { once: true }));
}

test('origins are parsed by the URL rules and serialized', () => {
  const a = new Window('https://a.test:443/path?q');
  const o = new Window();
  assert.strictEqual(a.origin, 'https://a.test');
  assert.strictEqual(o.origin, 'null');
  assert.throws(() => new Window('not a url'), { name: 'SyntaxError' });
  a.close();
  o.close();
});

test('delivery: origin and source of the sender; reply through event.source', async () => {
  const a = new Window('https://a.test');
  const b = new Window('https://b.test');
  const got = nextEvent(b);
  b.postMessage({ x: [1, 2] }, 'https://b.test', [], a);
  const e = await got;
  assert.deepStrictEqual(e.data, { x: [1, 2] });
  assert.strictEqual(e.origin, 'https://a.test');
  assert.strictEqual(e.source, a);
  assert.strictEqual(e.lastEventId, '');
  const reply = nextEvent(a);
  e.source.postMessage('pong', { targetOrigin: '*', source: b });
  assert.strictEqual((await reply).data, 'pong');
  a.close();
  b.close();
});

test('a target origin mismatch drops the message silently; "/" means the sender\'s origin', async () => {
  const a = new Window('https://a.test');
  const b = new Window('https://b.test');
  const seen = [];
  b.onmessage = (e) => seen.push(e.data);
  b.postMessage('wrong origin', 'https://c.test', [], a);
  b.postMessage('slash: a != b', '/', [], a);
  b.postMessage('star', '*', [], a);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepStrictEqual(seen, ['star']);
  assert.throws(() => b.postMessage('x', 'no url', [], a), { name: 'SyntaxError' });
  a.close();
  b.close();
});

test('the origin is checked at delivery: navigating after posting drops the message', async () => {
  const a = new Window('https://a.test');
  const b = new Window('https://b.test');
  const seen = [];
  b.postMessage('for b.test', 'https://b.test', [], a);
  b.navigate('https://elsewhere.test');
  b.postMessage('for elsewhere', 'https://elsewhere.test', [], a);
  b.onmessage = (e) => seen.push(e.data);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepStrictEqual(seen, ['for elsewhere']);
  a.close();
  b.close();
});

test('ports travel to a window; they are detached at the sender even if the message is dropped', async () => {
  const a = new Window('https://a.test');
  const b = new Window('https://b.test');
  const c = new MessageChannel();
  const got = nextEvent(b);
  b.postMessage('port', 'https://b.test', [c.port2], a);
  const e = await got;
  assert.strictEqual(e.ports.length, 1);
  const echoed = new Promise((r) => c.port1.once('message', r));
  e.ports[0].postMessage('through the port');
  assert.strictEqual(await echoed, 'through the port');
  const d = new MessageChannel();
  b.postMessage('dropped', 'https://nowhere.test', [d.port2], a);
  assert.throws(() => a.postMessage('again', '*', [d.port2], b), { name: 'DataCloneError' });
  c.port1.close();
  d.port1.close();
  e.ports[0].close();
  a.close();
  b.close();
});
