'use strict';
module.exports = ({ MessageChannel, receiveMessageOnPort }, log) => {
  const { port1, port2 } = new MessageChannel();
  const c = new MessageChannel();
  c.port2.on('close', () => log('transferred object close'));
  c.port1.on('close', () => log('kept end close'));
  port1.postMessage('x', [c.port2]);
  c.port2.postMessage('from detached');
  log('detached post ok', c.port2.hasRef());
  const got = receiveMessageOnPort(port2);
  log('ports arrived', got.message);
  setTimeout(() => { c.port1.close(); port1.close(); }, 200);
};
