'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1 } = new MessageChannel();
try { port1.postMessage(Symbol('s')); } catch (e) { log('symbol', e.name, e.message); }
try { port1.postMessage({ s: Symbol.iterator }); } catch (e) { log('nested symbol', e.name, e.message); }
try { port1.postMessage({ [Symbol('k')]: 1, ok: 2 }); log('symbol key skipped'); } catch (e) { log('symbol key', e.name); }
port1.close();
};
