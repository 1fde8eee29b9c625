'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
port2.on('message', (v) => { log('m', v); if (v === 1) throw new Error('listener failed'); if (v === 2) port2.close(); });
port1.postMessage(1); port1.postMessage(2);
};
