'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
port1.postMessage('a'); port1.postMessage('b');
setTimeout(() => {
  port2.addEventListener('message', (e) => { log('event', e.data); if (e.data === 'c') port2.close(); });
  port1.postMessage('c');
}, 200);
};
