'use strict';
module.exports = ({ MessageChannel }, log) => {
const { port1, port2 } = new MessageChannel();
port2.on('message', (v) => log('got', v));
port2.on('close', () => log('port2 close'));
port1.postMessage(1); port1.postMessage(2);
setTimeout(() => { port1.postMessage(3); port1.postMessage(4); port2.close(); log('closed with 2 pending'); }, 200);
};
