'use strict';
// Delivery order across several channels of one name: each of three senders posts twice in
// turn; every other channel hears every message, in Node's order.
module.exports = ({ BroadcastChannel }, log) => {
  const names = ['a', 'b', 'c', 'd'];
  const chans = names.map(() => new BroadcastChannel('order'));
  let left = 3 * 2 * 3; // 3 senders x 2 messages x 3 listeners each
  chans.forEach((ch, i) => {
    ch.onmessage = (e) => {
      log(names[i], 'got', e.data);
      if (--left === 0) { for (const c of chans) c.close(); log('closed'); }
    };
  });
  for (let round = 0; round < 2; round++) {
    for (let s = 0; s < 3; s++) chans[s].postMessage(`${names[s]}${round}`);
  }
};
