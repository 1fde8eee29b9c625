'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
port1.close(() => log('close callback'));
port2.on('close', () => log('peer close'));
log('after close call');
};
