'use strict';
// The child of tests/node/ipc.test.js: serves commands on its parent port (see the test).
const { PKG } = require('./helpers');
const wm = require(PKG);

const parent = wm.parentPort();
if (parent === null) {
  console.error('ipc-child: no parent port');
  process.exit(2);
}
if (wm.parentPort() !== parent) {
  console.error('ipc-child: parentPort() is not cached');
  process.exit(2);
}
if (process.env.WEBMESSAGING_PORT_FD !== undefined) {
  console.error('ipc-child: WEBMESSAGING_PORT_FD was not removed');
  process.exit(2);
}

parent.addEventListener('message', (ev) => {
  const m = ev.data;
  switch (m.cmd) {
    case 'echo': {
      // Typed arrays go back transferred, so the reply moves their buffers too.
      const buffers = Object.values(m.value || {}).filter(ArrayBuffer.isView).map((v) => v.buffer);
      parent.postMessage({ cmd: 'echo', value: m.value }, buffers);
      break;
    }
    case 'port': {
      // A port came in: answer on it, then send a port of our own back.
      const [p] = ev.ports;
      p.postMessage({ via: 'your port', pid: process.pid });
      p.close();
      const { port1, port2 } = new wm.MessageChannel();
      parent.postMessage({ cmd: 'port-back' }, [port2]);
      port1.postMessage({ via: 'my port', pid: process.pid });
      port1.close();
      break;
    }
    case 'stream': {
      // After `delay` ms if given: post n messages, then close, or exit at once, or (then:
      // 'wait') stay alive (the listener refs the port) until killed, saying when written.
      setTimeout(() => {
        for (let i = 1; i <= m.n; i++) parent.postMessage({ seq: i });
        if (m.then === 'close') parent.close();
        else if (m.then === 'exit') process.exit(0); // at once: the exit flushes what was posted
        else setTimeout(() => process.stdout.write('wrote\n'), 200);
      }, m.delay || 0);
      break;
    }
    case 'drop':
      // Keep nothing of the port that came in: collection closes it (reason 'dropped').
      setTimeout(() => {
        for (let i = 0; i < 5; i++) global.gc();
        parent.postMessage({ cmd: 'dropped' });
      }, 20);
      break;
    case 'env':
      parent.postMessage({ cmd: 'env', value: process.env.WM_TEST_VAR });
      break;
    case 'exit':
      parent.close();
      break;
    default:
      console.error('ipc-child: unexpected', m);
      process.exit(1);
  }
});
