'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
port2.on('message', (v) => { log('got', v); if (v === 1) port2.close(); });
port2.on('close', () => log('port2 close'));
port1.on('close', () => log('port1 close'));
for (let i = 0; i < 4; i++) port1.postMessage(i);
};
