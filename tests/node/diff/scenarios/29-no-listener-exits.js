'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
port1.postMessage('nobody listens');
port2.on('close', () => log('never: not started'));
log('end of script');
};
