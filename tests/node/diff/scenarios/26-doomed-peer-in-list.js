'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
port2.on('message', (v) => log('got', v));
port2.on('close', () => log('port2 close'));
port1.on('close', () => log('port1 close'));
try { port1.postMessage('doomed', [port2]); log('no throw'); } catch (e) { log('throws', e.name, e.message); }
setTimeout(() => { log('timeout'); port1.close(); }, 200);
};
