'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
const c = new MessageChannel();
port2.on('message', (v) => { log('got', v); port2.close(); });
port2.addEventListener('message', (e) => log('ports', e.ports.length));
port1.postMessage('bag', { transfer: [c.port1] });
};
