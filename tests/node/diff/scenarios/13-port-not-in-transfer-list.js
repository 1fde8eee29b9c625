'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1 } = new MessageChannel();
const c = new MessageChannel();
try { port1.postMessage({ p: c.port1 }); } catch (e) { log('not listed', e.name, e.message); }
try { port1.postMessage(c.port1, [c.port2]); } catch (e) { log('other listed', e.name, e.message); }
log('still usable', String(!!c.port1));
port1.close();
};
