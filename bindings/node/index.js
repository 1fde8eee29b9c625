'use strict';
// webmessaging for Node: a drop-in MessageChannel / MessagePort whose ports are backed by the
// Rust core, so they also cross worker threads (see exportPort/importPort), and whose values
// are the shared wire format that C, Python and Rust read.
//
// The native addon (`webmessaging.node`, built from src/) moves bytes, ports and wake-ups; the
// modules in lib/ give them Node's API and semantics, one concept each:
// - shared.js: the addon, Node's EventTarget hooks we reuse, our per-object state symbols;
// - errors.js: DOMExceptions, Node's error codes, the transfer-list checks;
// - lifetime.js: the wake-up's id map, what stays alive, the process ref count;
// - values.js: the JS codec (codec.js) first, V8's serializer for the rest, ports as host objects;
// - event.js: MessageEvent and a port's 'close' event;
// - drain.js: the one drain over every receiver kind, and a port's delivery chain;
// - port.js: MessagePort, MessageChannel, receiveMessageOnPort;
// - broadcast.js: BroadcastChannel; window.js: Window; handoff.js: exportPort/importPort;
// - linger.js: setLinger, the short wait for the next message before the event loop sleeps.
// Cross-process ports (spawn, parentPort, listen, connect, exportFd, importFd) are in ipc.js;
// a port from another process is an ordinary port here.

const { native, recvScratch, kWake, kId, kClosed } = require('./lib/shared.js');
const { nativeError } = require('./lib/errors.js');
const { live, held, track, envRef } = require('./lib/lifetime.js');
const { MessageEvent } = require('./lib/event.js');
const { returnStash } = require('./lib/drain.js');
const {
  MessagePort, MessageChannel, receiveMessageOnPort, newPort, detachLocally,
} = require('./lib/port.js');
const { BroadcastChannel } = require('./lib/broadcast.js');
const { Window } = require('./lib/window.js');
const { exportPort, importPort } = require('./lib/handoff.js');
const { setLinger } = require('./lib/linger.js');

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
  setLinger,
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
// Internal, for the lingering tests: this thread's windows that caught a message and that did not.
Object.defineProperty(module.exports, '_lingerCounts', {
  value: () => { const [hits, misses] = native.lingerCounts(); return { hits, misses }; },
});
