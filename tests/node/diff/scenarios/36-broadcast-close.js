'use strict';
module.exports = ({ BroadcastChannel }, log) => {
  const a = new BroadcastChannel('c');
  const b = new BroadcastChannel('c');
  b.onmessage = (e) => log('b got', e.data);
  a.close();
  try { a.postMessage('after close'); } catch (e) { log('post after close', e.name, e.message); }
  try { b.postMessage(() => 1); } catch (e) { log('function', e.name); }
  const a2 = new BroadcastChannel('c');
  a2.postMessage('from a2');
  setTimeout(() => { b.close(); a2.close(); log('done'); }, 200);
  const lone = new BroadcastChannel('lone');
  lone.unref();
};
