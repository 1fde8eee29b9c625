'use strict';
// The Node child of the cross-language demo (examples/ipc/main.py): it gets a port from its
// parent (any language), receives through it a port whose other end lives in the C child, says
// hello on it, waits for the answer, reports it to the parent and exits.
const path = require('node:path');
const { parentPort } = require(path.join(__dirname, '..', '..', 'bindings', 'node'));

const parent = parentPort();
if (parent === null) {
  console.error('child.js: start me with a parent port (python examples/ipc/main.py)');
  process.exit(1);
}
parent.addEventListener('message', (ev) => {
  if (ev.data.cmd !== 'talk' || ev.ports.length !== 1) {
    console.error('child.js: unexpected message', ev.data);
    process.exit(1);
  }
  const [peer] = ev.ports; // its other end is in the C child's process
  peer.once('message', (got) => {
    peer.close();
    parent.postMessage({ from: 'node', got });
    parent.close(); // lossless: the report goes out first; then nothing keeps us alive
  });
  peer.postMessage({ from: 'node', text: 'hello from Node' });
});
