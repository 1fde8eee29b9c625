'use strict';
// DataCloneError cases: the error is a DOMException named DataCloneError (code 25), thrown
// before anything is sent or detached.
const { test } = require('node:test');
const assert = require('node:assert');
const { PKG } = require('./helpers');
const wm = require(PKG);

function isDataCloneError(e) {
  return e instanceof DOMException && e.name === 'DataCloneError' && e.code === 25;
}

test('functions cannot be cloned', () => {
  const { port1, port2 } = new wm.MessageChannel();
  assert.throws(() => port1.postMessage(() => 1), isDataCloneError);
  assert.throws(() => port1.postMessage({ nested: [function f() {}] }), isDataCloneError);
  assert.strictEqual(wm.receiveMessageOnPort(port2), undefined);
  port1.close();
});

test('symbols cannot be cloned', () => {
  const { port1, port2 } = new wm.MessageChannel();
  assert.throws(() => port1.postMessage(Symbol('s')), isDataCloneError);
  assert.throws(() => port1.postMessage([Symbol.iterator]), isDataCloneError);
  assert.strictEqual(wm.receiveMessageOnPort(port2), undefined);
  port1.close();
});

test('a port not in the transfer list is refused (Node throws a TypeError here) and stays usable', () => {
  const { port1, port2 } = new wm.MessageChannel();
  const c = new wm.MessageChannel();
  assert.throws(() => port1.postMessage({ p: c.port1 }),
                { name: 'TypeError', message: /not listed in transferList/ });
  assert.strictEqual(wm.receiveMessageOnPort(port2), undefined);
  c.port1.postMessage('still works');
  assert.deepStrictEqual(wm.receiveMessageOnPort(c.port2), { message: 'still works' });
  port1.close();
  c.port1.close();
});

test('transfer-list errors: source port, duplicates, detached ports, unsupported objects', () => {
  const { port1 } = new wm.MessageChannel();
  const c = new wm.MessageChannel();
  assert.throws(() => port1.postMessage(1, [port1]), isDataCloneError);
  assert.throws(() => port1.postMessage(1, [c.port1, c.port1]), isDataCloneError);
  port1.postMessage(1, [c.port1]);
  assert.throws(() => port1.postMessage(1, [c.port1]), isDataCloneError);
  const ab = new ArrayBuffer(1);
  assert.throws(() => port1.postMessage(1, [ab, ab]), isDataCloneError);
  assert.strictEqual(ab.byteLength, 1, 'nothing detached on error');
  assert.throws(() => port1.postMessage(1, [{}]), { name: 'TypeError', code: 'ERR_INVALID_TRANSFER_OBJECT' });
  const node = new (require('node:worker_threads').MessageChannel)();
  assert.throws(() => port1.postMessage(1, [node.port1]), isDataCloneError);
  node.port1.close();
  port1.close();
  c.port2.close();
});

test('an error in the middle of a value leaves the transfer list untouched', () => {
  const { port1, port2 } = new wm.MessageChannel();
  const c = new wm.MessageChannel();
  const ab = new ArrayBuffer(4);
  assert.throws(() => port1.postMessage({ p: c.port1, ab, f: () => {} }, [c.port1, ab]), isDataCloneError);
  assert.strictEqual(ab.byteLength, 4);
  c.port1.postMessage('not transferred');
  assert.deepStrictEqual(wm.receiveMessageOnPort(c.port2), { message: 'not transferred' });
  assert.strictEqual(wm.receiveMessageOnPort(port2), undefined);
  port1.close();
  c.port1.close();
});
