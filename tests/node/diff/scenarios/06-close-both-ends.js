'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
port1.on('close', () => log('port1 close'));
port2.on('close', () => log('port2 close'));
port2.on('message', (v) => log('port2 got', v));
port1.on('message', (v) => log('port1 got', v));
port1.postMessage('before close');
port2.postMessage('other way');
port1.close();
log('closed');
};
