'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
log('empty', receiveMessageOnPort(port2));
port1.postMessage('one'); port1.postMessage({ two: 2 });
log('first', receiveMessageOnPort(port2));
log('second', receiveMessageOnPort(port2));
log('third', receiveMessageOnPort(port2));
port1.postMessage('three');
port1.close();
port2.on('close', () => log('port2 close'));
log('after close', receiveMessageOnPort(port2));
};
