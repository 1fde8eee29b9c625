'use strict';
// Between two messages, everything the first listener queued runs to the end: its ticks, its
// promise jobs, and the ticks and promise jobs those queue in turn (Node runs each message in
// its own callback scope, which ends with a full tick-and-microtask checkpoint).
module.exports = ({ MessageChannel }, log) => {
const { port1, port2 } = new MessageChannel();
port2.on('message', (m) => {
  log('message', m);
  process.nextTick(() => {
    log('tick', m);
    Promise.resolve().then(() => {
      log('tick promise', m);
      process.nextTick(() => log('tick promise tick', m));
    });
  });
  Promise.resolve().then(() => {
    log('promise', m);
    process.nextTick(() => log('promise tick', m));
  }).then(() => log('promise then', m));
  if (m === 2) port2.close();
});
for (let i = 0; i < 3; i++) port1.postMessage(i);
};
