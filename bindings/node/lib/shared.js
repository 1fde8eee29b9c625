'use strict';
// What every part of the package shares: the native addon (loaded once, with its scratch
// buffers registered), the hooks of Node's own EventTarget that our classes reuse, and the
// symbols naming our per-object state.

const path = require('path');
const fs = require('fs');
const wt = require('worker_threads');
const { scratch } = require('../codec.js');

function loadNative() {
  const candidates = [
    process.env.WEBMESSAGING_NODE_ADDON,
    path.join(__dirname, '..', 'webmessaging.node'),
    path.join(__dirname, '..', `webmessaging.${process.platform}-${process.arch}.node`),
  ].filter(Boolean);
  for (const file of candidates) {
    if (fs.existsSync(file)) return require(file);
  }
  throw new Error(
    `webmessaging: native addon not found (looked for ${candidates.join(', ')}); ` +
      'build it with `make build-node` from the repository root');
}

const native = loadNative();
native.setScratch(scratch);
// A drain that finds a single message hands it over here (no Buffer allocated); it is decoded
// at once, before any other drain can reuse the space.
const recvScratch = Buffer.allocUnsafeSlow(64 * 1024);
native.setRecvScratch(recvScratch);
// A large ArrayBuffer in a message that came alone is adopted (an ArrayBuffer over the received
// bytes, moved, not copied) instead of copied out. With the addon's V8 shim (arrayBufferTransfer
// 'move') its memory is an ordinary backing store that any port can transfer. Without it, it is
// a Node-API external buffer, which Node marks untransferable: Node 20's own ports then clone it
// when it is in their transferList, but Node 21+ throw a DataCloneError, so there it is copied
// out as before.
if (native.arrayBufferTransfer() === 'move' || Number(process.versions.node.split('.')[0]) <= 20) {
  require('../codec/decode.js').setAdopter(native.adoptBytes, native.adoptUndo);
}

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

// --- per-object state (ports; BroadcastChannel and Window use the lifetime ones) -------------
const kNative = Symbol('webmessaging.native'); // the NativePort owning the core port, if any
const kId = Symbol('webmessaging.id'); // its id, for the native port* calls
const kReceiving = Symbol('webmessaging.receiving');
const kClosed = Symbol('webmessaging.closed');
const kRefed = Symbol('webmessaging.refed');
const kStash = Symbol('webmessaging.stash');
const kReceivingPorts = Symbol('webmessaging.currentlyReceivingPorts');
const kChain = Symbol('webmessaging.chain');
// In drain.js's `running` list; and woken again while in it.
const kQueued = Symbol('webmessaging.queued');
const kRewoken = Symbol('webmessaging.rewoken');
// When its close began (an order, 0 before), and the batch with its close record.
const kCloseSeq = Symbol('webmessaging.closeSeq');
const kLimit = Symbol('webmessaging.limit'); // deliveries due in the current run
const kCloseBatch = Symbol('webmessaging.closeBatch');
const kInDelivery = Symbol('webmessaging.inDelivery');
const kDiscard = Symbol('webmessaging.discard');
const kClosing = Symbol('webmessaging.closing');
const kDone = Symbol('webmessaging.done');
const kListening = Symbol('webmessaging.listening'); // has a 'message' listener (see lifetime.js)
// A port's async_hooks resource (an AsyncResource of type MESSAGEPORT, as Node's ports are):
// its events are dispatched in the async context the port was created in.
const kAsync = Symbol('webmessaging.async');
// The per-kind hook of the env's wake-up (see drain.js): what a wake-up does with the object (a
// port runs its delivery chain, a BroadcastChannel or Window drains a batch, a cross-process
// Listener in ipc.js accepts clients).
const kWake = Symbol('webmessaging.wake');
// Messages taken from the core per crossing, and delivered per chain before the event loop
// gets a turn.
const BATCH = 1000;

// What modules loaded early need from later ones at call time (filled in by port.js and
// window.js as they load): the classes an instanceof check names, and newPort for the drain.
const late = { MessagePort: undefined, Window: undefined, newPort: undefined };

Object.assign(module.exports, {
  native, late, recvScratch, ETP, kNewListener, kRemoveListener, kHybridDispatch, kCreateEvent,
  NodeEventTarget, NodeMessageEvent, kNative, kId, kReceiving, kClosed, kRefed, kStash,
  kReceivingPorts, kChain, kQueued, kRewoken, kCloseSeq, kCloseBatch, kLimit, kInDelivery,
  kDiscard, kClosing, kDone, kWake,
  kListening, kAsync, BATCH,
});
