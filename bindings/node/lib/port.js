'use strict';
// MessagePort and MessageChannel: Node's API and semantics (lib/internal/worker/io.js) over the
// core's ports. A MessagePort is a NodeEventTarget (Node's own class, taken from worker_threads'
// prototype chain), so addEventListener/on/once/off, onmessage and event order are Node's own;
// ref on the first 'message' listener (and start), unref + stop on the last. Delivery is
// drain.js's; values are values.js's.

const v8 = require('v8');
const util = require('util');
const wt = require('worker_threads');
const { AsyncResource } = require('async_hooks');
const { encodeFast } = require('../codec.js');
const {
  native, late, ETP, kNewListener, kRemoveListener, kCreateEvent,
  NodeEventTarget, kNative, kId, kReceiving, kClosed, kRefed, kStash, kReceivingPorts, kChain,
  kQueued, kRewoken, kCloseSeq, kCloseBatch, kLimit, kInDelivery, kDiscard, kClosing, kDone, kWake,
  kListening, kAsync,
} = require('./shared.js');
const { domException, codeError, nativeError, transferList } = require('./errors.js');
const { live, track, updateHold, setRef, beginClosing } = require('./lifetime.js');
const { serializeChecked } = require('./values.js');
const { createMessageEvent } = require('./event.js');
const {
  Batch, scheduleDrain, returnStash, drainPort, finishClose, nextCloseSeq,
} = require('./drain.js');

// Out of the addon's exports (a dictionary-mode object: a look-up per access) once, as the
// post of every message calls it.
const { portPostScratch } = native;

class MessagePortImpl extends NodeEventTarget {

  postMessage(value, transfer) {
    // The common case first: a top-level primitive, nothing transferred.
    if (transfer === undefined && arguments.length !== 0) {
      const n = encodeFast(value);
      if (n >= 0) {
        portPostScratch(this[kId], n);
        return;
      }
    }
    if (arguments.length === 0) {
      throw codeError('ERR_MISSING_ARGS', 'Not enough arguments to MessagePort.postMessage');
    }
    const t = transferList(this, transfer);
    if (t === undefined) {
      const n = encodeFast(value);
      if (n >= 0) {
        portPostScratch(this[kId], n);
        return;
      }
    }
    send(this, prepare(this, value, t), false);
  }

  /**
   * Beyond the standard: posts like postMessage, but only if the peer's queue has room under
   * its capacity (see setCapacity). Returns false, with nothing sent or detached, when it has
   * not.
   */
  tryPost(value, transfer) {
    return send(this, prepare(this, value, transferList(this, transfer)), true);
  }

  /**
   * Beyond the standard: posts once the peer's queue has room, waiting up to `timeoutMs`
   * (checking every few milliseconds, without blocking the thread). The value is cloned now;
   * the promise rejects with a `TimeoutError` DOMException (nothing sent or detached) if no
   * room came in time.
   */
  postWithTimeout(value, timeoutMs, transfer) {
    let msg;
    try {
      msg = prepare(this, value, transferList(this, transfer));
      if (send(this, msg, true)) return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
    const deadline = performance.now() + Number(timeoutMs);
    return new Promise((resolve, reject) => {
      const retry = (delay) => {
        let sent;
        try {
          sent = send(this, msg, true);
        } catch (err) {
          reject(err);
          return;
        }
        const left = deadline - performance.now();
        if (sent) resolve();
        else if (!(left > 0)) reject(domException('no room in the receiving queue in time', 'TimeoutError'));
        else setTimeout(retry, Math.min(delay, left), Math.min(delay * 2, 16));
      };
      retry(1);
    });
  }

  /**
   * Beyond the standard: limits this port's receiving queue (`maxMessages`, `maxBytes`; omitted
   * or null means no limit). Only bounded posts from the peer (tryPost, postWithTimeout) respect
   * it; postMessage stays unbounded, as on the web. The limit travels with the port.
   */
  setCapacity({ maxMessages = null, maxBytes = null } = {}) {
    native.portSetCapacity(this[kId], maxMessages, maxBytes);
  }

  /** Beyond the standard: counters of this port's receiving queue and of its posts. */
  metrics() {
    const m = native.portMetrics(this[kId]);
    return {
      depth: m[0],
      queuedBytes: m[1],
      highWaterMark: m[2],
      enqueued: m[3],
      delivered: m[4],
      posted: m[5],
      dropped: m[6],
    };
  }

  start() {
    if (this[kClosed]) return;
    this[kReceiving] = true;
    scheduleDrain(this);
  }

  close(cb) {
    if (typeof cb === 'function') this.once('close', cb);
    if (this[kClosed]) return;
    this[kClosed] = true;
    this[kCloseSeq] = nextCloseSeq();
    beginClosing(this);
    // Like Node: closing from inside a delivery lets the messages already queued here be
    // delivered first; closing at any other time drops them. Either way 'close' follows on a
    // later turn, when our own close record comes through the wake-up.
    if (!(this[kInDelivery] || this[kChain] > 0)) {
      this[kDiscard] = true;
      this[kStash] = undefined;
    }
    native.portClose(this[kId]); // also schedules the drain that finds the close record
  }

  ref() {
    setRef(this, true);
  }

  unref() {
    setRef(this, false);
  }

  hasRef() {
    return !!this[kRefed];
  }

  [kNewListener](size, type, ...args) {
    if (type === 'message' && size - 1 === 0) {
      this[kListening] = true;
      this.ref();
      this.start();
      updateHold(this);
    }
    return Reflect.apply(ETP[kNewListener], this, [size, type, ...args]);
  }

  [kRemoveListener](size, type, ...args) {
    if (type === 'message' && size === 0) {
      this[kReceiving] = false;
      this[kListening] = false;
      this.unref();
      updateHold(this);
    }
    return Reflect.apply(ETP[kRemoveListener], this, [size, type, ...args]);
  }

  [kWake]() {
    drainPort(this);
  }

  // Like Node's: `MessagePort [EventTarget] { active, refed, ... }`.
  [util.inspect.custom]() {
    if (this[kId] === undefined) return this; // the copy below, or the prototype itself
    const state = this[kDone] || this[kClosed] ? { active: false } : { active: true, refed: !!this[kRefed] };
    return Object.assign({ __proto__: MessagePort.prototype }, state);
  }

  [kCreateEvent](data, type) {
    if (type !== 'message' && type !== 'messageerror') {
      return Reflect.apply(ETP[kCreateEvent], this, [data, type]);
    }
    const ports = this[kReceivingPorts];
    this[kReceivingPorts] = undefined;
    return createMessageEvent(type, data, ports);
  }
}

// Serializes a message: [bytes, ports, buffers].
function prepare(port, value, t) {
  const ports = t === undefined ? undefined : t[0];
  const buffers = t === undefined ? undefined : t[1];
  return [serializeChecked(value, ports, buffers), ports, buffers];
}

// Sends a prepared message; `bounded` respects the peer's capacity (returns false when full).
function send(port, [bytes, ports, buffers], bounded) {
  if (ports !== undefined) for (const p of ports) returnStash(p);
  let doomed;
  try {
    doomed = (bounded ? native.portTryPost : native.portPost)(
      port[kId], bytes, bytes.length, ports === undefined ? undefined : ports.map((p) => p[kId]),
      buffers);
  } catch (err) {
    const e = nativeError(err);
    if (bounded && e.name === 'Full') return false;
    throw e;
  }
  if (ports !== undefined) {
    for (const p of ports) detachLocally(p);
    if (doomed) {
      // The peer was posted through its own channel: the channel is lost (both ends close),
      // with Node's warning.
      process.emitWarning('The target port was posted to itself, and the communication ' +
                          'channel was lost');
    }
  }
  return true;
}

// onmessage / onmessageerror: Node's own event-handler attributes (they use only EventTarget
// state), so setting one adds a listener, which refs and starts the port exactly like Node.
// Like Node's: ports come from a MessageChannel or from a message; calling the constructor
// (with or without `new`) throws Node's ERR_CONSTRUCT_CALL_INVALID. A plain function, so that
// a call without `new` gets that code too (a class would throw V8's own TypeError).
function MessagePort() {
  throw codeError('ERR_CONSTRUCT_CALL_INVALID', 'Constructor cannot be called');
}
MessagePort.prototype = MessagePortImpl.prototype;
Object.defineProperty(MessagePort.prototype, 'constructor', { value: MessagePort, writable: true, configurable: true });
Object.setPrototypeOf(MessagePort, NodeEventTarget);

for (const name of ['onmessage', 'onmessageerror']) {
  Object.defineProperty(MessagePort.prototype, name,
                        Object.getOwnPropertyDescriptor(wt.MessagePort.prototype, name));
}

// A port object must be a V8 *host object* (an API object with embedder fields) so that
// v8.Serializer hands it to _writeHostObject instead of cloning it as a plain object. Objects
// made by napi classes have no embedder fields (measured: they serialize as `{}`), but a
// v8.Serializer instance does; so each port is constructed by the Serializer constructor with
// MessagePort.prototype as new.target, then given a fresh NodeEventTarget's state.
// The state NodeEventTarget's constructor gives every instance is under the same symbols each
// time: listed once here, not per port (getOwnPropertySymbols and its array per port were ~half
// of the copy's cost).
const ET_STATE = Object.getOwnPropertySymbols(new NodeEventTarget());

function allocPort() {
  // new.target is the class, not the MessagePort function, though both have the same
  // prototype: with the plain function, port creation measured ~3x slower.
  const port = Reflect.construct(v8.Serializer, [], MessagePortImpl);
  const init = new NodeEventTarget();
  for (let i = 0; i < ET_STATE.length; i++) {
    const s = ET_STATE[i];
    port[s] = init[s];
  }
  port[kNative] = undefined;
  return port;
}

// A port object for a NativePort (a received or imported port). A MessageChannel's ports have
// no NativePort: each owns its core port through a finalizer (native.channelFor).
function newPort(np) {
  const port = allocPort();
  port[kNative] = np;
  initPort(port, np.id);
  return port;
}

// The port state of a fresh port object whose core port has id `id`.
function initPort(port, id) {
  port[kId] = id;
  port[kReceiving] = false;
  port[kClosed] = false;
  port[kRefed] = false;
  port[kStash] = undefined;
  port[kReceivingPorts] = undefined;
  port[kChain] = 0;
  port[kQueued] = false;
  port[kRewoken] = false;
  port[kCloseSeq] = 0;
  port[kCloseBatch] = undefined;
  port[kLimit] = 0;
  port[kInDelivery] = false;
  port[kDiscard] = false;
  port[kClosing] = false;
  port[kDone] = false;
  port[kListening] = false;
  // Created here, so async_hooks sees the port's init in its creator's context (and an
  // AsyncLocalStorage store active then is the one its listeners see).
  port[kAsync] = new AsyncResource('MESSAGEPORT');
  track(port[kId], port);
}

function detachLocally(port) {
  // Transferred away: the object goes quiet, and (like Node's) emits 'close' on a later turn.
  port[kClosed] = true;
  port[kReceiving] = false;
  port[kStash] = undefined;
  live.delete(port[kId]);
  beginClosing(port);
  // Two turns later, so that when the channel was doomed the posting port's own 'close'
  // (through the wake-up) comes first, as in Node.
  setImmediate(() => setImmediate(finishClose, port));
}

// --- MessageChannel -------------------------------------------------------------------------------
// A function rather than a class so that a call without `new` throws Node's
// ERR_CONSTRUCT_CALL_REQUIRED.
function MessageChannel() {
  if (new.target === undefined) {
    throw codeError('ERR_CONSTRUCT_CALL_REQUIRED', 'Cannot call constructor without `new`');
  }
  // The port objects own their core ports themselves (a finalizer each; see channelFor).
  const port1 = allocPort();
  const port2 = allocPort();
  const id = native.channelFor(port1, port2);
  initPort(port1, id);
  initPort(port2, id + 1);
  Object.defineProperty(this, 'port1', { value: port1, enumerable: true });
  Object.defineProperty(this, 'port2', { value: port2, enumerable: true });
}

// --- receiveMessageOnPort -------------------------------------------------------------------------
function receiveMessageOnPort(port) {
  if (!(port instanceof MessagePort)) {
    const e = new TypeError('The "port" argument must be a MessagePort instance');
    e.code = 'ERR_INVALID_ARG_TYPE';
    throw e;
  }
  let batch = port[kStash];
  if (batch === undefined) {
    if (port[kDone]) return undefined;
    batch = new Batch(native.drain(port[kId], 1));
  }
  const i = batch.next();
  port[kStash] = batch.empty ? undefined : batch;
  if (i === undefined) return undefined;
  if (i < 0) {
    if (i !== -3) {
      // The close record: 'close' is emitted asynchronously, as Node does.
      batch.pos = batch.count;
      port[kStash] = batch;
      port[kReceiving] = true;
      scheduleDrain(port);
    }
    return undefined;
  }
  return { message: batch.decode(i) };
}

late.MessagePort = MessagePort;
late.newPort = newPort;

Object.assign(module.exports, {
  MessagePort, MessageChannel, receiveMessageOnPort, newPort, detachLocally,
});
