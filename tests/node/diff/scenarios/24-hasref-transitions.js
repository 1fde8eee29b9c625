'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
log('initial', port2.hasRef());
const f = () => {};
port2.on('message', f); log('after on', port2.hasRef());
port2.unref(); log('after unref', port2.hasRef());
port2.ref(); log('after ref', port2.hasRef());
port2.off('message', f); log('after off', port2.hasRef());
port1.ref(); log('port1 ref without listener', port1.hasRef());
port1.close(); log('port1 after close', port1.hasRef());
port2.on('message', f); log('port2 listener on closed channel', port2.hasRef());
port2.close(); log('port2 after close', port2.hasRef());
};
