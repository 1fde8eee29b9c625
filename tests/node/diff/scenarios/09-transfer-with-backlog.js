'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
const c = new MessageChannel();
c.port1.postMessage('queued 1'); c.port1.postMessage('queued 2');
port2.once('message', (v) => {
  const p = v;
  p.on('message', (m) => { log('moved got', m); if (m === 'after') { p.close(); port2.close(); } });
  c.port1.postMessage('after');
});
port1.postMessage(c.port2, [c.port2]);
};
