'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1 } = new MessageChannel();
try { port1.postMessage(); } catch (e) { log('no args', e.name, e.code, e.message); }
try { new MessagePort(); } catch (e) { log('constructor', e.name, e.message); }
log('instanceof EventTarget', String(port1 instanceof EventTarget));
log('toStringTag', Object.prototype.toString.call(port1));
port1.close();
};
