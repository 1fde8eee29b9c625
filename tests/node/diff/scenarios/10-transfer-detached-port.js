'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
const c = new MessageChannel();
port1.postMessage(null, [c.port2]);
try { port1.postMessage(null, [c.port2]); log('no error'); } catch (e) { log('second transfer', e.name); }
c.port1.close();
try { port1.postMessage(null, [c.port1]); log('closed port transfer: no error'); } catch (e) { log('closed port transfer', e.name); }
port1.close();
};
