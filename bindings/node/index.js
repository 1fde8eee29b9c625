'use strict';
// webmessaging for Node: a drop-in MessageChannel / MessagePort whose ports are backed by the
// Rust core, so they also cross worker threads (see exportPort/importPort), and whose values
// are the shared wire format that C, Python and Rust read.
//
// Layout: the native addon (`webmessaging.node`, built from src/lib.rs) moves bytes, ports and
// wake-ups; this file gives them Node's API and semantics (lib/internal/worker/io.js):
// - a MessagePort is a NodeEventTarget (Node's own class, taken from worker_threads'
//   prototype chain), so addEventListener/on/once/off, onmessage and event order are Node's own;
// - ref on the first 'message' listener (and start), unref + stop on the last;
// - values are written and read by the JS codec (codec.js: V8's exact bytes for the common
//   values), and by V8 itself (`v8.Serializer`) for the rest; our ports are host objects
//   `\` + index into the transfer table (see newPort for how).
// Cross-process ports (spawn, parentPort, listen, connect, exportFd, importFd) are in ipc.js;
// a port from another process is an ordinary port here.

const v8 = require('v8');
const path = require('path');
const fs = require('fs');
const wt = require('worker_threads');
const util = require('util');
const { encodeFast, decodeFast, scratch, NOT_FAST } = require('./codec.js');

function loadNative() {
  const candidates = [
    process.env.WEBMESSAGING_NODE_ADDON,
    path.join(__dirname, 'webmessaging.node'),
    path.join(__dirname, `webmessaging.${process.platform}-${process.arch}.node`),
  ].filter(Boolean);
  for (const file of candidates) {
    if (fs.existsSync(file)) return require(file);
  }
  throw new Error(
    `webmessaging: native addon not found (looked for ${candidates.join(', ')}); ` +
      'build it with `make build-node` from the repository root');
}

const native = loadNative();

// --- Node internals we reuse (by their public reachability, not by --expose-internals) -------
function symbolOf(obj, description) {
  const s = Object.getOwnPropertySymbols(obj).find((x) => x.description === description);
  if (s === undefined) {
    throw new Error(`webmessaging: this Node version lacks EventTarget's ${description} hook`);
  }
  return s;
}
const ETP = EventTarget.prototype;
const kNewListener = symbolOf(ETP, 'kNewListener');
const kRemoveListener = symbolOf(ETP, 'kRemoveListener');
const kHybridDispatch = symbolOf(ETP, 'nodejs.internal.kHybridDispatch');
const kCreateEvent = symbolOf(ETP, 'kCreateEvent');
const NodeEventTarget = Object.getPrototypeOf(wt.MessagePort.prototype).constructor;
const NodeMessageEvent = globalThis.MessageEvent;

// --- per-port state ----------------------------------------------------------------------------
const kNative = Symbol('webmessaging.native'); // the NativePort owning the core port, if any
const kId = Symbol('webmessaging.id'); // its id, for the native port* calls
const kReceiving = Symbol('webmessaging.receiving');
const kClosed = Symbol('webmessaging.closed');
const kRefed = Symbol('webmessaging.refed');
const kStash = Symbol('webmessaging.stash');
const kReceivingPorts = Symbol('webmessaging.currentlyReceivingPorts');
const kChain = Symbol('webmessaging.chain');
const kContinue = Symbol('webmessaging.continue');
const kInDelivery = Symbol('webmessaging.inDelivery');
const kDiscard = Symbol('webmessaging.discard');
const kClosing = Symbol('webmessaging.closing');
const kDone = Symbol('webmessaging.done');
// The per-kind hooks of the one drain (see drainEvents): what a wake-up does with the object
// (a port runs its delivery chain, a BroadcastChannel or Window drains a batch, a cross-process
// Listener in ipc.js accepts clients), and how a decoded message becomes its event.
const kWake = Symbol('webmessaging.wake');
const kDispatch = Symbol('webmessaging.dispatch');

const BATCH = 1000;

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

function serializeChecked(value, ports, buffers) {
  try {
    return serialize(value, ports, buffers);
  } catch (err) {
    throw cloneError(err);
  }
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

// --- the env's wake-up: one threadsafe function per thread, one crossing per batch ------------
const live = new Map(); // id -> WeakRef<MessagePort | BroadcastChannel | Window>
const broadcastIds = new Set(); // ids in `live` that are BroadcastChannels
let refCount = 0;
// A collected object's id leaves `live` (its native half closes itself; see src/lib.rs), so a
// program that drops channels without close() does not grow the map.
const forgetOnCollect = new FinalizationRegistry((id) => {
  const ref = live.get(id);
  if (ref !== undefined && ref.deref() === undefined) live.delete(id);
  broadcastIds.delete(id);
});
function track(id, obj) {
  live.set(id, new WeakRef(obj));
  forgetOnCollect.register(obj, id);
}

// Objects that must not be collected while only their own listeners (or nothing) reference
// them, as on the web and in Node (whose open handles are strong): a port or BroadcastChannel
// with a 'message' listener, a ref'd one, and one whose 'close' is still to come. They leave
// the set when closed (by either side), transferred, or when none of these holds any more.
// Being held never keeps the process alive by itself: that is ref()/unref()'s business.
const held = new Set();
const kListening = Symbol('webmessaging.listening');
function updateHold(obj) {
  if (!obj[kDone] && (obj[kListening] || obj[kRefed] || obj[kClosing])) held.add(obj);
  else held.delete(obj);
}

// The wake-up hands over the ready ids itself (null, one id, or an array of them).
function onWake(ready) {
  if (ready === undefined) ready = native.takeReady();
  if (ready === null) return;
  if (typeof ready === 'number') {
    wakePort(ready);
  } else {
    broadcastsInCreationOrder(ready);
    for (let i = 0; i < ready.length; i++) wakePort(ready[i]);
  }
}

// Node runs each BroadcastChannel's pending messages per channel, in the channels' creation
// order (libuv's order of their async handles), so several channels of one name hear a burst in
// that order. Broadcast ids (which grow with creation) are put in that order among the slots
// they hold; ports keep the order they became ready in (their close and message order is
// Node's as it is).
function broadcastsInCreationOrder(ready) {
  let slots;
  for (let i = 0; i < ready.length; i++) {
    if (broadcastIds.has(ready[i])) (slots || (slots = [])).push(i);
  }
  if (slots === undefined || slots.length < 2) return;
  const ids = slots.map((i) => ready[i]).sort((x, y) => x - y);
  for (let k = 0; k < slots.length; k++) ready[slots[k]] = ids[k];
}

function wakePort(id) {
  const ref = live.get(id);
  const target = ref && ref.deref();
  if (target === undefined) live.delete(id);
  else target[kWake]();
}
native.init(onWake);
native.setScratch(scratch);
// A drain that finds a single message hands it over here (no Buffer allocated); it is decoded
// at once, before any other drain can reuse the space.
const recvScratch = Buffer.allocUnsafeSlow(64 * 1024);
native.setRecvScratch(recvScratch);
// A large ArrayBuffer in a message that came alone is adopted (an ArrayBuffer over the received
// bytes, moved, not copied) instead of copied out. Such a buffer is external memory, which Node
// marks untransferable: Node 20's own ports then clone it when it is in their transferList,
// but Node 21+ throw a DataCloneError, so there it is copied out as before.
if (Number(process.versions.node.split('.')[0]) <= 20) {
  require('./codec/decode.js').setAdopter(native.adoptBytes, native.adoptUndo);
}

function envRef(delta) {
  const before = refCount;
  refCount += delta;
  if (before === 0 && refCount > 0) native.setEnvRef(true);
  else if (before > 0 && refCount === 0) native.setEnvRef(false);
}

// ref()/unref() of one port. A port that is closing keeps its ref state until its 'close'
// event (Node's handle stays ref'd until its close callback), and a closing port keeps the
// loop alive until then in any case (kClosing holds a ref of its own).
function setRef(port, on) {
  if (on) {
    if (port[kRefed] || port[kDone]) return;
    port[kRefed] = true;
    envRef(1);
  } else {
    if (!port[kRefed]) return;
    port[kRefed] = false;
    envRef(-1);
  }
  updateHold(port);
}

// --- values: V8's own serializer, our ports as host objects ------------------------------------
class PortSerializer extends v8.Serializer {
  constructor(ports) {
    super();
    this.ports = ports;
  }
  _writeHostObject(object) {
    const i = this.ports === undefined ? -1 : this.ports.indexOf(object);
    if (i < 0) {
      if (object instanceof MessagePort || object instanceof wt.MessagePort) {
        throw new TypeError(
          'Object that needs transfer was found in message but not listed in transferList');
      }
      throw domException('Cannot transfer object of unsupported type.', 'DataCloneError');
    }
    this.writeUint32(i);
  }
  _getDataCloneError(message) {
    return domException(message, 'DataCloneError');
  }
}

class PortDeserializer extends v8.Deserializer {
  constructor(buffer, ports) {
    super(buffer);
    this.ports = ports;
  }
  _readHostObject() {
    const i = this.readUint32();
    if (this.ports === null || i >= this.ports.length) {
      throw new Error(`DecodeError: host object index ${i} has no transferred port`);
    }
    return this.ports[i];
  }
}

// The JS codec first (it writes V8's bytes without a Serializer per message); V8 for the rest.
const { takeEncoded, decode: decodeJs } = require('./codec.js');

function serialize(value, ports, buffers) {
  const bytes = takeEncoded(value, ports, buffers);
  if (bytes !== null) return bytes; // a view of the codec's buffer: post it before encoding again
  const s = new PortSerializer(ports);
  s.writeHeader();
  if (buffers !== undefined) {
    for (let i = 0; i < buffers.length; i++) s.transferArrayBuffer(i, buffers[i]);
  }
  s.writeValue(value);
  const written = s.releaseBuffer();
  // V8 knows nothing of the reader's limits: check what it wrote, as the JS codec checks as it
  // writes, so an oversized value fails here and not at the receiver.
  try {
    native.validateForeign(written, ports === undefined ? 0 : ports.length,
      buffers === undefined ? [] : buffers.map((b) => b.byteLength));
  } catch (err) {
    throw nativeError(err);
  }
  return written;
}

function deserialize(bytes, ports, buffers) {
  const v = decodeJs(bytes, 0, bytes.length, ports, buffers);
  if (v !== NOT_FAST) return v;
  const d = new PortDeserializer(bytes, ports);
  d.readHeader();
  if (buffers !== null) {
    for (let i = 0; i < buffers.length; i++) d.transferArrayBuffer(i, buffers[i]);
  }
  return d.readValue();
}

// --- MessagePort --------------------------------------------------------------------------------
class MessagePortImpl extends NodeEventTarget {

  postMessage(value, transfer) {
    // The common case first: a top-level primitive, nothing transferred.
    if (transfer === undefined && arguments.length !== 0) {
      const n = encodeFast(value);
      if (n >= 0) {
        native.portPostScratch(this[kId], n);
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
        native.portPostScratch(this[kId], n);
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

  // A message from the drain: dispatched with Node's own hybrid dispatch, its ports for
  // kCreateEvent below.
  [kDispatch](data, type, batch) {
    this[kReceivingPorts] = batch.ports;
    batch.ports = undefined;
    this[kInDelivery] = true;
    try {
      this[kHybridDispatch](data, type, undefined);
    } finally {
      this[kReceivingPorts] = undefined;
      this[kInDelivery] = false;
    }
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
    if (t instanceof MessagePort) {
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

/**
 * Node's MessageEvent, except that `source` may be one of our ports or Windows and `ports` our
 * ports (Node's constructor only accepts its own): those are set on the instance.
 */
class MessageEvent extends NodeMessageEvent {
  constructor(type, init) {
    if (arguments.length === 0) return super();
    if (init === undefined || init === null ||
        (init.source == null && init.ports === undefined)) {
      super(type, init);
      return;
    }
    const { source, ports, ...rest } = init;
    const ours = (x) => x instanceof MessagePort || x instanceof Window;
    const sourceOurs = ours(source);
    const portList = ports === undefined ? undefined : [...ports];
    const portsOurs = portList !== undefined && portList.some((p) => p instanceof MessagePort);
    super(type, {
      ...rest,
      ...(sourceOurs ? {} : { source }),
      ...(portsOurs ? {} : { ports: portList }),
    });
    if (sourceOurs) Object.defineProperty(this, 'source', { value: source, enumerable: true });
    if (portsOurs) {
      if (!portList.every((p) => p instanceof MessagePort)) {
        throw codeError('ERR_INVALID_ARG_TYPE', 'The "init.ports" property must be an array of MessagePort instances');
      }
      Object.defineProperty(this, 'ports', { value: Object.freeze(portList), enumerable: true });
    }
  }
}

function createMessageEvent(type, data, ports) {
  const event = new MessageEvent(type, { data });
  if (ports !== undefined && ports.length > 0) {
    Object.defineProperty(event, 'ports', { value: Object.freeze(ports), enumerable: true });
  }
  return event;
}

// A port object must be a V8 *host object* (an API object with embedder fields) so that
// v8.Serializer hands it to _writeHostObject instead of cloning it as a plain object. Objects
// made by napi classes have no embedder fields (measured: they serialize as `{}`), but a
// v8.Serializer instance does; so each port is constructed by the Serializer constructor with
// MessagePort.prototype as new.target, then given a fresh NodeEventTarget's state.
function allocPort() {
  // new.target is the class, not the MessagePort function, though both have the same
  // prototype: with the plain function, port creation measured ~3x slower.
  const port = Reflect.construct(v8.Serializer, [], MessagePortImpl);
  const init = new NodeEventTarget();
  for (const s of Object.getOwnPropertySymbols(init)) port[s] = init[s];
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
  port[kContinue] = () => process.nextTick(drainOne, port);
  port[kInDelivery] = false;
  port[kDiscard] = false;
  port[kClosing] = false;
  port[kDone] = false;
  port[kListening] = false;
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

function scheduleDrain(port) {
  // Deliver on a later turn, as Node's uv_async does: through our own wake-up path.
  native.portPoke(port[kId]);
}

// A batch from NativePort.drain: every message's bytes in one buffer (see src/lib.rs).
class Batch {
  constructor(raw) {
    if (raw === null) {
      this.buf = null;
      this.extras = null;
      this.end = 0;
      this.reason = 0;
      this.count = 0;
    } else {
      const buf = typeof raw === 'number' ? recvScratch : Array.isArray(raw) ? raw[0] : raw;
      this.buf = buf;
      this.extras = Array.isArray(raw) && raw.length > 1 ? raw[1] : null;
      if (Array.isArray(raw) && raw.length === 1) {
        // A large message alone, in its own bytes (no header); more may be queued.
        this.lone = true;
        this.end = 0;
        this.reason = 0;
        this.count = 1;
        this.base = 0;
        this.more = true;
        this.ports = undefined;
        this.pos = 0;
        this.xpos = 0;
        return;
      }
      const end = buf.readUInt32LE(0);
      this.end = end & 0xff; // 1 closed here, 2 closed by the peer, 3 transferred away
      this.reason = (end >> 8) & 0xff; // index into CLOSE_REASONS
      this.count = buf.readUInt32LE(4);
      this.more = this.count === BATCH || (end & 0x10000) !== 0; // bit 16: stopped early
    }
    this.lone = false;
    this.base = 8 + 4 * this.count; // where the messages' bytes start
    this.ports = undefined; // the ports of the message decode() last read
    this.origin = ''; // and a window's message's origin and source window id
    this.sourceId = null;
    this.pos = 0;
    this.xpos = 0;
    if (raw === null) this.more = false;
  }

  // Where message i's bytes start and stop in this.buf.
  start(i) {
    return this.lone ? 0 : this.base + (i === 0 ? 0 : this.buf.readUInt32LE(4 + 4 * i));
  }

  stop(i) {
    return this.lone ? this.buf.length : this.base + this.buf.readUInt32LE(8 + 4 * i);
  }

  // A batch kept for later must not point into the receive scratch.
  own() {
    if (this.buf === recvScratch) this.buf = Buffer.from(recvScratch.subarray(0, this.base + this.buf.readUInt32LE(8 + 4 * (this.count - 1))));
    return this;
  }

  get empty() {
    return this.pos >= this.count && this.end === 0;
  }

  // The next message index, or -(end code) once the messages are used up (-1 closed here,
  // -2 closed by the peer, -3 transferred away), or undefined when nothing is left.
  next() {
    if (this.pos < this.count) return this.pos++;
    if (this.end !== 0) return -this.end;
    return undefined;
  }

  // Decodes message i: throws if the bytes are malformed (the caller makes a messageerror).
  decode(i) {
    const start = this.start(i);
    const stop = this.stop(i);
    let ports;
    let buffers = null;
    const x = this.extras;
    if (x !== null && this.xpos < x.length && x[this.xpos][0] === i) {
      const e = x[this.xpos++];
      if (e[1] !== null) ports = e[1].map(newPort);
      buffers = e[2];
      if (e.length > 3) {
        this.origin = e[3];
        this.sourceId = e[4];
      }
    }
    this.ports = ports;
    if (ports === undefined && buffers === null) {
      const v = decodeFast(this.buf, start, stop);
      if (v !== NOT_FAST) return v;
    }
    return deserialize(this.buf.subarray(start, stop), ports === undefined ? null : ports, buffers);
  }
}

// Messages of a batch that JS took from the core but has not delivered go back to the front of
// the core queue (last first) before the port is transferred or exported, so they travel with
// it instead of staying behind in this thread's stash.
function returnStash(port) {
  const batch = port[kStash];
  if (batch === undefined) return;
  port[kStash] = undefined;
  const extras = new Map();
  if (batch.extras !== null) {
    for (let k = batch.xpos; k < batch.extras.length; k++) extras.set(batch.extras[k][0], batch.extras[k]);
  }
  for (let i = batch.count - 1; i >= batch.pos; i--) {
    const start = batch.start(i);
    const stop = batch.stop(i);
    const e = extras.get(i);
    const ports = e === undefined || e[1] === null ? null : e[1].map((np) => np.id);
    const buffers = e === undefined ? null : e[2];
    native.portUnshift(port[kId], batch.buf.subarray(start, stop), ports, buffers);
  }
}

// Message i of `batch` as an event at `target`: decoded here (a failure is a 'messageerror'
// carrying the error), made into the event by the target kind's kDispatch hook.
function dispatchMessage(target, batch, i) {
  let data;
  let type = 'message';
  try {
    data = batch.decode(i);
  } catch (err) {
    data = err;
    type = 'messageerror';
  }
  target[kDispatch](data, type, batch);
}

// The drain of the kinds that dispatch a whole batch in one turn (BroadcastChannel, Window),
// until the object closes; a port's batch goes through drainOne's chain instead, which keeps
// Node's MessagePort order (a tick between messages, the close record, start/stop).
function drainEvents(target, id) {
  if (target[kClosed]) return;
  const batch = new Batch(native.drain(id, BATCH));
  for (let i = 0; i < batch.count && !target[kClosed]; i++) dispatchMessage(target, batch, i);
  if (batch.more && !target[kClosed]) native.portPoke(id);
}

function beginClosing(port) {
  if (port[kClosing] || port[kDone]) return;
  port[kClosing] = true;
  envRef(1);
  updateHold(port);
}

const CLOSE_REASONS = ['closed', 'dropped', 'doomed', 'lost'];

/**
 * The 'close' event of a port (Node's is a `MessagePortCloseEvent` too): beyond Node, it says
 * why the channel ended — `reason` is 'closed' (close() was called), 'dropped' (the other end
 * was garbage collected or its thread ended), 'doomed' (a port was posted through its own
 * channel), 'lost' (the other end's process exited or was killed without closing it) or
 * 'transferred' (this object's port moved away) — and `byPeer`, whether the other
 * end caused it.
 */
class MessagePortCloseEvent extends Event {
  constructor(reason, byPeer) {
    super('close');
    Object.defineProperty(this, 'reason', { value: reason, enumerable: true });
    Object.defineProperty(this, 'byPeer', { value: byPeer, enumerable: true });
  }
}

function finishClose(port, batch) {
  if (port[kDone]) return;
  live.delete(port[kId]);
  port[kClosed] = true;
  port[kDone] = true;
  port[kReceiving] = false;
  port[kStash] = undefined;
  setRef(port, false);
  if (port[kClosing]) {
    port[kClosing] = false;
    envRef(-1);
  }
  updateHold(port);
  const event = batch === undefined
    ? new MessagePortCloseEvent('transferred', false)
    : new MessagePortCloseEvent(CLOSE_REASONS[batch.reason] || 'closed', batch.end === 2);
  port.dispatchEvent(event);
}

// Node dispatches each message in its own callback scope: process.nextTick callbacks and
// promise jobs queued by one listener run before the next message, while the whole batch still
// runs in one event-loop turn (before timers and immediates). We get the same order by
// delivering one message, then queueing a microtask that queues a tick for the next one: the
// tick runs only after the listener's own ticks and promise jobs are done. The core queue is
// still drained in batches (one napi crossing per BATCH messages, kept in kStash), and a chain
// stops after BATCH messages to give the event loop a turn (Node caps a turn similarly).
function drainPort(port) {
  if (port[kChain] > 0) return; // a chain is running; it will see the new messages
  drainOne(port);
}


function drainOne(port) {
  const id = port[kId];
  const chain = port[kChain];
  port[kChain] = 0;
  if (port[kDone]) return;
  if (port[kClosed] && port[kDiscard]) {
    // Closed here outside a delivery: queued messages are dropped (as Node does); find the
    // close record.
    port[kStash] = undefined;
    for (;;) {
      const b = new Batch(native.drain(id, BATCH));
      if (b.end !== 0) {
        if (b.end !== 3) finishClose(port, b);
        return;
      }
      if (!b.more) return;
    }
  }
  if (!port[kReceiving] && !port[kClosed]) {
    // Not started: like Node, only a close record at the front of the queue is processed,
    // also one left in the stash behind the last message delivered before the port stopped.
    const stash = port[kStash];
    if (stash !== undefined) {
      if (stash.pos >= stash.count && stash.end !== 0) {
        port[kStash] = undefined;
        if (stash.end !== 3) finishClose(port, stash);
      }
      return;
    }
    if (native.portDepth(id) === 0) {
      const b = new Batch(native.drain(id, 1));
      if (b.count > 0) port[kStash] = b.own(); // raced in after the depth check; kept for start()
      else if (b.end === 1 || b.end === 2) finishClose(port, b);
    }
    return;
  }
  let batch = port[kStash];
  if (batch === undefined) {
    batch = new Batch(native.drain(id, BATCH));
    if (batch.empty) return;
    port[kStash] = batch;
  }
  const i = batch.next();
  if (batch.empty) port[kStash] = undefined;
  if (i === undefined) return;
  if (i < 0) {
    if (i !== -3) finishClose(port, batch);
    return;
  }
  dispatchMessage(port, batch, i);
  if (port[kClosed] && (port[kDiscard] || !port[kReceiving])) {
    port[kDiscard] = true;
    native.portPoke(id);
  } else if ((port[kReceiving] || port[kClosed]) &&
             (port[kStash] !== undefined || batch.more || port[kClosed])) {
    if (chain + 1 < BATCH) {
      port[kChain] = chain + 1;
      queueMicrotask(port[kContinue]);
    } else {
      native.portPoke(id);
    }
  } else if (port[kStash] !== undefined) {
    // Stopped by that delivery (its last 'message' listener went) with the batch not done:
    // a close record right behind is still processed, as Node does.
    native.portPoke(id);
  }
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

// --- BroadcastChannel -----------------------------------------------------------------------
// Like worker_threads' BroadcastChannel (an EventTarget; keeps the process alive until close()
// or unref()), but backed by the core's process-wide registry, so channels of the same name in
// any thread — and in any language binding loaded in this process — hear each other.
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
    broadcastIds.add(nb.id);
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
    broadcastIds.delete(this[kBroadcastId]);
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
    drainEvents(this, this[kBroadcastId]);
  }

  [kDispatch](data, type) {
    this.dispatchEvent(new MessageEvent(type, { data }));
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
for (const name of ['onmessage', 'onmessageerror']) {
  Object.defineProperty(BroadcastChannel.prototype, name,
                        Object.getOwnPropertyDescriptor(wt.BroadcastChannel.prototype, name));
}

// --- Window -----------------------------------------------------------------------------------
// A stand-in for a browsing context with an origin (the core's Window): origin-checked
// `postMessage(message, targetOrigin, transfer)`, with the sending window given explicitly
// (a browser takes it from the calling script's realm; Node has no such thing). Events carry
// `origin` (the sender's, never a string the sender supplied) and `source` (the sending Window,
// to reply to). Like a port, a window keeps the process alive while it has a 'message'
// listener; close() or unref() releases it.
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
    drainEvents(this, this[kWindowId]);
  }

  // A window's event carries the sender's origin and window; a message that fails to decode
  // is a 'messageerror' with null data, and the ports it carried are closed (the standard
  // loses them with the message).
  [kDispatch](data, type, batch) {
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
    this.dispatchEvent(event);
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
for (const name of ['onmessage', 'onmessageerror']) {
  Object.defineProperty(Window.prototype, name,
                        Object.getOwnPropertyDescriptor(wt.BroadcastChannel.prototype, name));
}

// --- worker hand-off --------------------------------------------------------------------------------
// Node's transfer list cannot carry our ports, so a port moves to a Worker as a token: export it
// here (the port object is detached, like a transferred port), pass the token in workerData or
// through Node's own postMessage, and import it once in the worker.
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

// Cross-process ports (ipc.js), given the internals they share with ports.
const ipc = require('./ipc.js')({
  native, newPort, nativeError, envRef, track, untrack: (id) => live.delete(id), kWake, kId,
  kClosed, MessagePort, MessageChannel, MessageEvent, returnStash, detachLocally,
});

module.exports = {
  MessageChannel,
  MessagePort,
  MessageEvent,
  receiveMessageOnPort,
  exportPort,
  importPort,
  BroadcastChannel,
  Window,
  spawn: ipc.spawn,
  parentPort: ipc.parentPort,
  listen: ipc.listen,
  connect: ipc.connect,
  exportFd: ipc.exportFd,
  importFd: ipc.importFd,
  Listener: ipc.Listener,
};
// Internal, for the cross-language tests (which read raw batches): not part of the API.
Object.defineProperty(module.exports, '_recvScratch', { value: recvScratch });
// Internal, for the lifetime tests: how many objects the wake-up map and the hold set track.
Object.defineProperty(module.exports, '_tracked', { value: () => ({ live: live.size, held: held.size }) });
