'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
port2.on('message', (v) => { log('message', v); if (v === 3) port2.close(); });
port2.on('close', () => log('port2 close'));
port1.on('close', () => log('port1 close'));
port1.postMessage(1); port1.postMessage(2); port1.postMessage(3);
log('posted');
};
