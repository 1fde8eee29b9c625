'use strict';
// Node's conventions a user or a test would notice: constructor misuse codes, transfer-list
// codes (including { transfer: null }), BroadcastChannel ref()/unref() returning the channel,
// util.inspect of a port and of a BroadcastChannel, the 'close' event's class.
const util = require('util');
module.exports = ({ MessageChannel, MessagePort, BroadcastChannel }, log) => {
  const attempt = (what, f) => {
    try { f(); log(what, 'ok'); } catch (e) { log(what, e.name, e.code, e.message); }
  };
  attempt('MessagePort()', () => MessagePort());
  attempt('new MessagePort()', () => new MessagePort());
  attempt('MessageChannel()', () => MessageChannel());
  const { port1, port2 } = new MessageChannel();
  for (const [what, t] of [['{transfer:null}', { transfer: null }], ['5', 5], ['"x"', 'x'],
    ['[5]', [5]], ['[{}]', [{}]], ['{transfer:5}', { transfer: 5 }], ['null', null], ['{}', {}]]) {
    attempt(`transfer ${what}`, () => port1.postMessage(1, t));
  }
  const shown = util.inspect(port1, { breakLength: Infinity });
  log('inspect', shown.slice(0, shown.indexOf('{')), (/active: \w+(, refed: \w+)?/.exec(shown) || ['none'])[0]);
  const bc = new BroadcastChannel('conv');
  log('bc ref returns it', String(bc.ref() === bc), 'unref', String(bc.unref() === bc));
  log('bc inspect', util.inspect(bc));
  port1.on('close', (e) => log('close event', e.constructor.name, e.type));
  setTimeout(() => { port1.close(); port2.close(); bc.close(); log('bc inspect closed', util.inspect(bc)); }, 200);
};
