'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
port2.on('message', (v) => {
  const [reply] = v.ports;
  reply.postMessage(v.n * 2);
  reply.close();
});
let pending = 3;
for (let n = 1; n <= 3; n++) {
  const c = new MessageChannel();
  c.port1.once('message', (r) => { log('reply', n, r); c.port1.close(); if (--pending === 0) { port1.close(); } });
  port1.postMessage({ n, ports: [c.port2] }, [c.port2]);
}
};
