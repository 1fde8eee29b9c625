'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
port2.addEventListener('message', (e) => { log('got', e.data); port1.close(); });
port2.addEventListener('close', (e) => log('close event', e.type, e.constructor === Event || e instanceof Event));
port1.postMessage('hi');
};
