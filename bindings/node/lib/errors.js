'use strict';
// Errors and argument checks: DOMExceptions and Node-style coded errors, the addon's errors
// ("Name: message") as the JS errors they name, and the checks of a transfer list.

const wt = require('worker_threads');
const { native, late, kClosed, kId } = require('./shared.js');

function domException(message, name) {
  return new DOMException(message, name);
}

// A TypeError with Node's error `code` (Node's internal errors are not public).
function codeError(code, message, Ctor = TypeError) {
  const e = new Ctor(message);
  e.code = code;
  return e;
}

// V8 refuses a SharedArrayBuffer with a plain Error; say why as a DataCloneError.
function cloneError(err) {
  if (!(err instanceof DOMException) && /SharedArrayBuffer/.test(err && err.message)) {
    return domException(
      'A SharedArrayBuffer cannot be posted through a webmessaging port: messages cross threads ' +
      '(and languages) as bytes copied by the Rust core, and sharing memory needs V8 to hand ' +
      'its backing store over, which no public API allows. Post a copy (an ArrayBuffer), or ' +
      "use worker_threads' MessageChannel for shared memory.", 'DataCloneError');
  }
  return err;
}

function nativeError(err) {
  // The addon throws "Name: message"; give it back as a DOMException with that name.
  const m = /^(DataCloneError|InvalidStateError|SyntaxError): (?:\w+: )?([\s\S]*)$/.exec(err.message);
  if (m) return domException(m[2], m[1]);
  const l = /^(Timeout|Full|Closed|DecodeError): ([\s\S]*)$/.exec(err.message);
  if (l) {
    const e = new Error(l[2]);
    e.name = l[1];
    return e;
  }
  return err;
}

// Node's own checks and codes for a transfer list (or `{ transfer }`), then the standard's
// checks on each item. Returns undefined when nothing is transferred, else [ports, buffers].
function transferList(port, transfer) {
  let list = transfer;
  let what = 'transferList';
  if (list !== undefined && list !== null && typeof list === 'object' && !Array.isArray(list) &&
      typeof list[Symbol.iterator] !== 'function') {
    list = list.transfer;
    what = 'options.transfer';
    if (list === null) {
      throw codeError('ERR_INVALID_ARG_TYPE', `Optional ${what} argument must be an iterable`);
    }
  }
  if (list === undefined || list === null) return undefined;
  if (typeof list !== 'object' || typeof list[Symbol.iterator] !== 'function') {
    throw codeError('ERR_INVALID_ARG_TYPE', `Optional ${what} argument must be an iterable`);
  }
  let ports;
  let buffers;
  for (const t of list) {
    if (t instanceof late.MessagePort) {
      if (t === port) throw domException('Transfer list contains source port', 'DataCloneError');
      if (ports === undefined) ports = [];
      if (ports.includes(t)) {
        throw domException('Transfer list contains duplicate MessagePort', 'DataCloneError');
      }
      if (t[kClosed] || native.portDetached(t[kId])) {
        throw domException('MessagePort in transfer list is already detached', 'DataCloneError');
      }
      ports.push(t);
    } else if (t instanceof ArrayBuffer) {
      if (buffers === undefined) buffers = [];
      if (buffers.includes(t)) {
        throw domException('Transfer list contains duplicate ArrayBuffer', 'DataCloneError');
      }
      if (isDetached(t)) {
        throw domException('ArrayBuffer in transfer list is already detached', 'DataCloneError');
      }
      buffers.push(t);
    } else if (t instanceof wt.MessagePort) {
      throw domException(
        "Node's built-in MessagePort cannot be transferred through a webmessaging port",
        'DataCloneError');
    } else {
      throw codeError('ERR_INVALID_TRANSFER_OBJECT', 'Found invalid object in transferList');
    }
  }
  return ports === undefined && buffers === undefined ? undefined : [ports, buffers];
}

function isDetached(ab) {
  if (ab.byteLength !== 0) return false;
  try {
    new Uint8Array(ab); // eslint-disable-line no-new
    return false;
  } catch {
    return true;
  }
}

Object.assign(module.exports, { domException, codeError, cloneError, nativeError, transferList, isDetached });
