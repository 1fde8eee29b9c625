'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
const h = (e) => { log('h', e.data); if (e.data === 1) { port2.removeEventListener('message', h); log('removed, hasRef', port2.hasRef()); } };
port2.addEventListener('message', h);
port1.postMessage(1); port1.postMessage(2); port1.postMessage(3);
setTimeout(() => { port2.addEventListener('message', (e) => { log('again', e.data); if (e.data === 3) port2.close(); }); }, 200);
};
