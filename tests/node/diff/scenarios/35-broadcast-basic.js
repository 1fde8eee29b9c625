'use strict';
module.exports = ({ BroadcastChannel }, log) => {
  const a = new BroadcastChannel('news');
  const b = new BroadcastChannel('news');
  const c = new BroadcastChannel('news');
  const other = new BroadcastChannel('other');
  other.onmessage = (e) => log('other got', e.data);
  a.onmessage = (e) => log('a got (sender must not)', e.data);
  b.onmessage = (e) => { log('b got', e.data, 'origin', JSON.stringify(e.origin), 'ports', e.ports.length); };
  c.addEventListener('message', (e) => {
    log('c got', e.data);
    if (e.data.n === 3) { a.close(); b.close(); c.close(); other.close(); log('closed'); }
  });
  log('name', a.name);
  for (let n = 1; n <= 3; n++) a.postMessage({ n });
};
