'use strict';
// Two ports with messages waiting: each delivers its whole backlog in turn (Node runs one
// port's queued messages in one go, then the next port's), and a backlog longer than 1000
// messages still comes before an immediate queued with it (Node runs at least what was queued
// when the delivery began).
module.exports = ({ MessageChannel }, log) => {
const a = new MessageChannel();
const b = new MessageChannel();
let n = 0;
a.port2.on('message', (m) => {
  if (m < 3 || m >= 2497) log('a', m);
  if (++n === 2500) { a.port2.close(); b.port2.close(); }
});
b.port2.on('message', (m) => log('b', m));
for (let i = 0; i < 3; i++) b.port1.postMessage(i);
for (let i = 0; i < 2500; i++) a.port1.postMessage(i);
setImmediate(() => log('immediate'));
};
