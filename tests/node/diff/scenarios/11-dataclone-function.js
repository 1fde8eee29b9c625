'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
try { port1.postMessage({ f() {} }); } catch (e) { log('function', e.name, e.message, String(e instanceof DOMException), e.code); }
try { port1.postMessage(() => 1); } catch (e) { log('arrow', e.name, e.message); }
port2.on('message', (v) => log('unexpected', v));
port1.close();
};
