'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
port2.on('message', (v) => {
  log('m', v);
  process.nextTick(() => log('tick', v));
  Promise.resolve().then(() => log('promise', v));
  queueMicrotask(() => log('micro', v));
  if (v === 3) setImmediate(() => { log('immediate after 3'); port2.close(); });
});
port1.postMessage(1); port1.postMessage(2); port1.postMessage(3);
setImmediate(() => log('immediate'));
setTimeout(() => log('timeout'), 50);
process.nextTick(() => log('tick0'));
};
