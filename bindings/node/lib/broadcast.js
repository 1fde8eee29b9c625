'use strict';
// BroadcastChannel: like worker_threads' (an EventTarget; keeps the process alive until close()
// or unref()), but backed by the core's process-wide registry, so channels of the same name in
// any thread — and in any language binding loaded in this process — hear each other.

const util = require('util');
const wt = require('worker_threads');
const { encodeFast, scratch } = require('../codec.js');
const {
  native, ETP, kNewListener, kRemoveListener, kClosed, kRefed, kDone, kListening, kWake,
} = require('./shared.js');
const { domException, nativeError } = require('./errors.js');
const { live, track, updateHold, setRef } = require('./lifetime.js');
const { serializeChecked } = require('./values.js');
const { MessageEvent } = require('./event.js');
const { drainEvents } = require('./drain.js');

const kBroadcastId = Symbol('webmessaging.broadcastId');
const kBroadcastOwner = Symbol('webmessaging.broadcastOwner');
const kBroadcastName = Symbol('webmessaging.broadcastName');

class BroadcastChannel extends EventTarget {
  constructor(name) {
    if (arguments.length === 0) {
      const e = new TypeError('The "name" argument must be specified');
      e.code = 'ERR_MISSING_ARGS';
      throw e;
    }
    super();
    const nb = native.broadcastOpen(`${name}`);
    this[kBroadcastOwner] = nb;
    this[kBroadcastId] = nb.id;
    this[kBroadcastName] = `${name}`;
    this[kClosed] = false;
    this[kRefed] = false;
    this[kDone] = false;
    this[kListening] = false;
    track(nb.id, this);
    setRef(this, true);
  }

  get name() {
    return this[kBroadcastName];
  }

  postMessage(message) {
    if (arguments.length === 0) {
      const e = new TypeError('The "message" argument must be specified');
      e.code = 'ERR_MISSING_ARGS';
      throw e;
    }
    if (this[kClosed]) throw domException('BroadcastChannel is closed.', 'InvalidStateError');
    let n = encodeFast(message);
    let bytes = scratch;
    if (n < 0) {
      bytes = serializeChecked(message, undefined, undefined);
      n = bytes.length;
    }
    try {
      native.broadcastPost(this[kBroadcastId], bytes, n);
    } catch (err) {
      throw nativeError(err);
    }
  }

  close() {
    if (this[kClosed]) return;
    this[kClosed] = true;
    this[kDone] = true;
    setRef(this, false);
    updateHold(this);
    live.delete(this[kBroadcastId]);
    native.broadcastClose(this[kBroadcastId]);
  }

  /** Keeps the process alive while open (the default); returns the channel, as Node's. */
  ref() {
    setRef(this, true);
    return this;
  }

  /** Lets the process exit while the channel is open; returns the channel, as Node's. */
  unref() {
    setRef(this, false);
    return this;
  }

  [kWake]() {
    drainEvents(this, this[kBroadcastId], dispatchToBroadcast);
  }

  [util.inspect.custom](depth, options, inspect) {
    if (depth < 0) return 'BroadcastChannel';
    const opts = { ...options, depth: options.depth == null ? null : options.depth - 1 };
    return `BroadcastChannel ${inspect({ name: this[kBroadcastName], active: !this[kClosed] }, opts)}`;
  }

  [kNewListener](size, type, ...args) {
    if (type === 'message' && size - 1 === 0) {
      this[kListening] = true;
      updateHold(this);
    }
    return Reflect.apply(ETP[kNewListener], this, [size, type, ...args]);
  }

  [kRemoveListener](size, type, ...args) {
    if (type === 'message' && size === 0) {
      this[kListening] = false;
      updateHold(this);
    }
    return Reflect.apply(ETP[kRemoveListener], this, [size, type, ...args]);
  }
}
// A BroadcastChannel's message (the drain's dispatch for this kind): data only, as Node's.
function dispatchToBroadcast(bc, data, type) {
  bc.dispatchEvent(new MessageEvent(type, { data }));
}

for (const name of ['onmessage', 'onmessageerror']) {
  Object.defineProperty(BroadcastChannel.prototype, name,
                        Object.getOwnPropertyDescriptor(wt.BroadcastChannel.prototype, name));
}

Object.assign(module.exports, { BroadcastChannel });
