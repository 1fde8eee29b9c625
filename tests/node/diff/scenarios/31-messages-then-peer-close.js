'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
for (let i = 0; i < 5; i++) port1.postMessage(i);
port1.close();
port2.on('message', (v) => log('got', v));
port2.on('close', () => log('port2 close'));
};
