'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
port2.on('message', (v) => log('got', v));
port2.on('close', () => log('port2 close'));
port1.close();
port1.postMessage('after close');
log('post after close did not throw');
setTimeout(() => { port2.postMessage('to closed peer'); log('post to closed peer ok'); }, 200);
};
