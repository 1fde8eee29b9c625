'use strict';
// Window: a stand-in for a browsing context with an origin (the core's Window): origin-checked
// `postMessage(message, targetOrigin, transfer)`, with the sending window given explicitly
// (a browser takes it from the calling script's realm; Node has no such thing). Events carry
// `origin` (the sender's, never a string the sender supplied) and `source` (the sending Window,
// to reply to). Like a port, a window keeps the process alive while it has a 'message'
// listener; close() or unref() releases it.

const wt = require('worker_threads');
const {
  native, late, ETP, kNewListener, kRemoveListener, kId, kClosed, kRefed, kDone, kWake,
} = require('./shared.js');
const { domException, nativeError } = require('./errors.js');
const { live, track, setRef } = require('./lifetime.js');
const { serializeChecked } = require('./values.js');
const { MessageEvent } = require('./event.js');
const { drainEvents } = require('./drain.js');
const { MessagePort, detachLocally } = require('./port.js');

const kWindowId = Symbol('webmessaging.windowId');
const kWindowOwner = Symbol('webmessaging.windowOwner');
const windowsById = new Map(); // id -> WeakRef<Window>

class Window extends EventTarget {
  constructor(origin) {
    super();
    let nw;
    try {
      nw = native.windowOpen(origin === undefined || origin === null ? null : `${origin}`);
    } catch (err) {
      throw nativeError(err);
    }
    this[kWindowOwner] = nw;
    this[kWindowId] = nw.id;
    this[kClosed] = false;
    this[kRefed] = false;
    this[kDone] = false;
    track(nw.id, this);
    windowsById.set(nw.id, new WeakRef(this));
  }

  /** The origin of the window's current document, serialized ("null" when opaque). */
  get origin() {
    return native.windowOrigin(this[kWindowId]);
  }

  /** Moves the window to a document with the origin of `url`. */
  navigate(url) {
    try {
      native.windowNavigate(this[kWindowId], `${url}`);
    } catch (err) {
      throw nativeError(err);
    }
  }

  /**
   * `target.postMessage(message, targetOrigin, transfer, source)` or
   * `target.postMessage(message, { targetOrigin = '/', transfer, source })`.
   */
  postMessage(message, targetOrigin, transfer, source) {
    let options = targetOrigin;
    if (options !== null && typeof options === 'object') {
      targetOrigin = options.targetOrigin === undefined ? '/' : `${options.targetOrigin}`;
      transfer = options.transfer;
      source = options.source;
    } else {
      // The standard's default: no target origin means "/" (the sender's own origin).
      targetOrigin = targetOrigin === undefined ? '/' : `${targetOrigin}`;
    }
    // No sending window given: the window posts to itself (as a page's own script does).
    if (source === undefined) source = this;
    if (!(source instanceof Window)) {
      throw new TypeError('Window.postMessage: the source must be a Window (argument 4 or options.source)');
    }
    try {
      native.windowCheckTarget(source[kWindowId], targetOrigin); // SyntaxError before serializing
    } catch (err) {
      throw nativeError(err);
    }
    let ports;
    if (transfer !== undefined && transfer !== null) {
      for (const t of transfer) {
        if (!(t instanceof MessagePort)) {
          throw domException('Only webmessaging MessagePorts can be transferred to a Window', 'DataCloneError');
        }
        if (ports === undefined) ports = [];
        if (ports.includes(t)) throw domException('Transfer list contains duplicate MessagePort', 'DataCloneError');
        ports.push(t);
      }
    }
    const bytes = serializeChecked(message, ports, undefined);
    try {
      native.windowPost(this[kWindowId], bytes, bytes.length, targetOrigin, source[kWindowId],
                        ports === undefined ? undefined : ports.map((p) => p[kId]));
    } catch (err) {
      throw nativeError(err);
    }
    if (ports !== undefined) for (const p of ports) detachLocally(p);
  }

  close() {
    if (this[kClosed]) return;
    this[kClosed] = true;
    this[kDone] = true;
    setRef(this, false);
    live.delete(this[kWindowId]);
  }

  ref() {
    setRef(this, true);
  }

  unref() {
    setRef(this, false);
  }

  [kWake]() {
    drainEvents(this, this[kWindowId], dispatchToWindow);
  }

  [kNewListener](size, type, ...args) {
    if (type === 'message' && size - 1 === 0) this.ref();
    return Reflect.apply(ETP[kNewListener], this, [size, type, ...args]);
  }

  [kRemoveListener](size, type, ...args) {
    if (type === 'message' && size === 0) this.unref();
    return Reflect.apply(ETP[kRemoveListener], this, [size, type, ...args]);
  }
}

// A window's event (the drain's dispatch for this kind) carries the sender's origin and
// window; a message that fails to decode is a 'messageerror' with null data, and the ports it
// carried are closed (the standard loses them with the message).
function dispatchToWindow(win, data, type, batch) {
  const ports = batch.ports === undefined ? [] : batch.ports;
  batch.ports = undefined;
  if (type === 'messageerror') {
    data = null;
    for (const p of ports) p.close();
  }
  const ref = batch.sourceId === null ? undefined : windowsById.get(batch.sourceId);
  const source = (ref && ref.deref()) || null;
  const event = new MessageEvent(type, { data, origin: batch.origin, lastEventId: '' });
  Object.defineProperty(event, 'source', { value: source, enumerable: true });
  if (type === 'message' && ports.length > 0) {
    Object.defineProperty(event, 'ports', { value: Object.freeze(ports), enumerable: true });
  }
  win.dispatchEvent(event);
}

for (const name of ['onmessage', 'onmessageerror']) {
  Object.defineProperty(Window.prototype, name,
                        Object.getOwnPropertyDescriptor(wt.BroadcastChannel.prototype, name));
}

late.Window = Window;

Object.assign(module.exports, { Window });
