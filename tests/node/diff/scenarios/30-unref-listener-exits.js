'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
port2.on('message', (v) => log('got', v));
port2.unref();
setTimeout(() => log('timer'), 300);
setTimeout(() => port1.postMessage('after timer'), 5);
};
