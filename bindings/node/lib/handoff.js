'use strict';
// Moving a port to a Worker: Node's transfer list cannot carry our ports, so a port moves as a
// token: export it here (the port object is detached, like a transferred port), pass the token
// in workerData or through Node's own postMessage, and import it once in the worker.

const { native, kId, kClosed } = require('./shared.js');
const { domException, nativeError } = require('./errors.js');
const { returnStash } = require('./drain.js');
const { MessagePort, newPort, detachLocally } = require('./port.js');

function exportPort(port) {
  if (!(port instanceof MessagePort)) throw new TypeError('exportPort expects a webmessaging MessagePort');
  if (port[kClosed]) throw domException('MessagePort is detached', 'DataCloneError');
  let token;
  returnStash(port);
  try {
    token = native.exportPort(port[kId]);
  } catch (err) {
    throw nativeError(err);
  }
  detachLocally(port);
  return { webmessagingPort: token };
}

function importPort(token) {
  const t = token !== null && typeof token === 'object' ? token.webmessagingPort : token;
  if (typeof t !== 'bigint') throw new TypeError('importPort expects the value exportPort returned');
  try {
    return newPort(native.importPort(t));
  } catch (err) {
    throw nativeError(err);
  }
}

Object.assign(module.exports, { exportPort, importPort });
