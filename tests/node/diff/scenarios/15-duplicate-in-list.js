'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1 } = new MessageChannel();
const c = new MessageChannel();
try { port1.postMessage(1, [c.port1, c.port1]); log('duplicate ok'); } catch (e) { log('duplicate', e.name); }
const ab = new ArrayBuffer(4);
try { port1.postMessage(1, [ab, ab]); log('dup ab ok'); } catch (e) { log('dup ab', e.name); }
port1.close();
};
