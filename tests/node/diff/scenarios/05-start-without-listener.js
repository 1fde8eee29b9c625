'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
port2.start();
port1.postMessage('lost');
setTimeout(() => {
  port2.on('message', (v) => { log('got', v); port2.close(); });
  port1.postMessage('kept');
}, 200);
};
