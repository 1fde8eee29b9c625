'use strict';
// The last 'message' listener goes with the message just before the peer's close record: the
// stopped port still gets 'close' (only a close at the front of the queue is processed).
module.exports = ({ MessageChannel }, log) => {
const { port1, port2 } = new MessageChannel();
port1.once('message', (v) => {
  log('message', v);
  port1.once('close', () => log('port1 close'));
});
port2.postMessage(1);
port2.close();
setTimeout(() => log('later'), 200);
};
