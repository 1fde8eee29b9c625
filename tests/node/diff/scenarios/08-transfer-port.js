'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
const other = new MessageChannel();
port2.on('message', (v) => {
  log('got', v, 'eports', this === undefined ? 0 : 0);
});
port2.addEventListener('message', (e) => {
  const p = e.ports[0];
  log('ports', e.ports.length, 'same as data.p', String(e.data.p === p));
  p.on('message', (v) => { log('moved port got', v); p.close(); port2.close(); });
  other.port1.postMessage('through moved port');
});
port1.postMessage({ p: other.port2 }, [other.port2]);
};
