'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1 } = new MessageChannel();
try { port1.postMessage(1, [port1]); } catch (e) { log('source', e.name, e.message); }
port1.close();
};
