'use strict';
// The child of bench-ipc.js: the same loop over our parent port (spawned with webmessaging's
// spawn) or over Node's fork IPC channel. 'count:K' counts the next K messages, then answers
// 'done'; 'echo' sends every later message back; 'bye' ends.
const path = require('node:path');
const wm = require(path.join(__dirname, '..', '..', 'bindings', 'node'));

const port = wm.parentPort();
const send = port !== null ? (m) => port.postMessage(m) : (m) => process.send(m);
let left = 0;
let echo = false;
function onMessage(m) {
  if (left > 0) {
    if (--left === 0) send('done');
  } else if (echo) {
    if (m === 'bye') end();
    else send(m);
  } else if (typeof m === 'string' && m.startsWith('count:')) {
    left = Number(m.slice(6));
  } else if (m === 'echo') {
    echo = true;
  } else if (m === 'bye') {
    end();
  }
}
function end() {
  if (port !== null) port.close();
  else process.disconnect();
}
if (port !== null) port.on('message', onMessage);
else process.on('message', onMessage);
send('ready');
