'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
const ab = new Uint8Array([1, 2, 3, 4]).buffer;
port2.on('message', (v) => { log('got', v.byteLength, Array.from(new Uint8Array(v.buf))); port2.close(); });
port1.postMessage({ buf: ab, byteLength: ab.byteLength }, [ab]);
log('sender byteLength after', ab.byteLength);
};
