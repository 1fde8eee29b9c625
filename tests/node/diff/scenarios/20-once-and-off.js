'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
const f = (v) => log('f', v);
port2.once('message', (v) => log('once', v));
port2.on('message', f);
port1.postMessage(1);
port1.postMessage(2);
setTimeout(() => {
  port2.off('message', f);
  log('hasRef after off', port2.hasRef());
  port1.postMessage(3);
  setTimeout(() => { port2.on('message', (v) => { log('late', v); port2.close(); }); }, 200);
}, 200);
};
