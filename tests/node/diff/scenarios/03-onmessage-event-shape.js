'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
port2.onmessage = function (e) {
  log('type', e.type, 'data', e.data, 'ports', e.ports.length, 'origin', e.origin,
      'lastEventId', e.lastEventId, 'source', e.source, 'this', String(this === port2),
      'target', String(e.target === port2), 'isMessageEvent', String(e instanceof MessageEvent));
  port2.onmessage = null;
  log('hasRef after null', port2.hasRef());
  port1.close();
};
log('onmessage set', typeof port2.onmessage, port2.hasRef());
port1.postMessage({ x: 1 });
};
