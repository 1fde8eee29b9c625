'use strict';
// The one drain. The addon's `drain(id, max)` takes a batch of events from any receiver (a
// port, a BroadcastChannel, a Window: each a core MessageEventTarget) in one crossing, in one
// layout (Batch). The env's wake-up reports ready ids; each object's kWake hook says what to
// do: a port joins the delivery run (each event its own task, Node's MessagePort order;
// drainOne), a BroadcastChannel or Window dispatches a batch (drainEvents). Every message becomes its event through
// dispatchMessage and the kind's dispatch function (dispatchToPort here; the others in
// broadcast.js and window.js).

const { decodeFast, NOT_FAST } = require('../codec.js');
const {
  native, late, recvScratch, BATCH, NodeEventTarget, kId, kReceiving, kClosed, kStash, kChain,
  kDiscard, kClosing, kDone, kWake, kReceivingPorts, kInDelivery, kHybridDispatch, kQueued,
  kRewoken, kCloseSeq, kCloseBatch, kLimit, kAsync,
} = require('./shared.js');
const { live, envRef, setRef, updateHold } = require('./lifetime.js');
const { deserialize } = require('./values.js');
const { MessagePortCloseEvent, CLOSE_REASONS } = require('./event.js');

// The addon's exports object holds too many properties for V8 to keep it in fast mode: each
// `native.x` is a dictionary look-up. The per-message calls are taken out of it once.
const { drain: nativeDrain, portPoke, portDepth } = native;

// --- the env's wake-up: each delivered event its own task ---------------------------------------
// The addon calls onWake from the top of the event loop (a uv_async callback), through
// napi_make_callback, with the ready ids (null, one id, or an array of them); while it returns
// true, again with null. Each port message (or close) is delivered as its own task: before the
// next one, the listener's process.nextTick callbacks and microtasks run to the end, as after
// each message of Node's own ports (one MakeCallback each). Here that checkpoint is Node's own
// (process._tickCallback, the runNextTicks that Node's timers run between two timers: ticks and
// promise jobs, as at the end of a callback scope), so one crossing delivers a whole run; the
// end of the crossing's callback scope is the last message's checkpoint. Where that function is
// not Node's (replaced, or wrapped by --pending-deprecation), onWake delivers one event per
// call and the addon's callback scope per call is the checkpoint.
const running = []; // ports with deliveries under way, in the order they run (see byId)
let runHead = 0;

const PER_CALL = 1024; // deliveries per call of onWake at most, checkpoint between each
const checkpoint = typeof process._tickCallback === 'function' &&
  process._tickCallback.name === 'runNextTicks' ? process._tickCallback : null;

function onWake(ready) {
  if (ready !== null && ready !== undefined) {
    if (typeof ready === 'number') {
      wakeTarget(ready);
    } else {
      ready.sort(byId);
      for (let i = 0; i < ready.length; i++) wakeTarget(ready[i]);
    }
  }
  if (checkpoint === null) return deliverNext();
  for (let n = 1; deliverNext(); n++) {
    // Now and then a fresh call (the addon's guard against a run that never ends counts calls).
    if (n === PER_CALL) return true;
    try {
      checkpoint();
    } catch (err) {
      // A listener's error, rethrown from its tick as Node's EventTarget does: the process's
      // uncaught exception now, as from a callback of Node's own ports; the rest is delivered
      // on a later turn (reportUncaught wakes the env again).
      native.reportUncaught(err);
      return false;
    }
  }
  return false;
}

// Delivers the next port event in `running`; returns whether more are due. Like Node's, a
// port's run delivers what was queued when it began, but at least BATCH messages; then the
// port waits for the next turn of the event loop (its own wake-up), so timers, I/O and
// immediates get their turn.
function deliverNext() {
  while (runHead < running.length) {
    const port = running[runHead];
    if (port[kChain] === 0) port[kLimit] = BATCH; // drainOne raises it for a larger backlog
    const r = drainOne(port);
    if (r === MORE && ++port[kChain] < port[kLimit]) return true;
    runHead++;
    port[kChain] = 0;
    port[kQueued] = false;
    if (r === MORE) {
      portPoke(port[kId]);
    } else if (port[kRewoken]) {
      // Woken again during its run, which may have read "nothing more" already: look again.
      port[kQueued] = true;
      running.push(port);
    }
    port[kRewoken] = false;
    if (r !== NONE) return runHead < running.length || closing.length > 0 || cleared();
  }
  return cleared();
}

// A port's 'close' waits until the messages due in this turn are delivered, then the closes
// come in the order they began (close() called here, or the peer's close record read), as
// Node's come from libuv's closing phase, in the order its handles were closed.
const closing = [];
let closeSeq = 0;

function nextCloseSeq() {
  return ++closeSeq;
}

function deferClose(port, batch) {
  if (port[kCloseBatch] !== undefined) return NONE; // already waiting
  if (port[kCloseSeq] === 0) port[kCloseSeq] = nextCloseSeq();
  port[kCloseBatch] = batch;
  if (closing.push(port) > 1 && closing[closing.length - 2][kCloseSeq] > port[kCloseSeq]) {
    closing.sort((x, y) => x[kCloseSeq] - y[kCloseSeq]);
  }
  return NONE;
}

function cleared() {
  if (closing.length > 0) {
    const port = closing.shift();
    const batch = port[kCloseBatch];
    port[kCloseBatch] = undefined;
    finishClose(port, batch);
    return closing.length > 0 || runHead < running.length || cleared();
  }
  running.length = 0;
  runHead = 0;
  return false;
}

// Node runs the pending deliveries of one event-loop turn in the order its receivers' async
// handles were created (libuv's order): each port, BroadcastChannel or Window in turn, all of
// its queued messages before the next one's. Ids grow with creation (a received port gets a new
// one, as it gets a new handle in Node), so the ready ids are taken in that order.
function byId(x, y) {
  return x - y;
}

function wakeTarget(id) {
  const ref = live.get(id);
  const target = ref && ref.deref();
  if (target === undefined) live.delete(id);
  else target[kWake]();
}
native.init(onWake);

function scheduleDrain(port) {
  // Deliver on a later turn, as Node's uv_async does: through our own wake-up path.
  portPoke(port[kId]);
}

// A batch from native.drain: every message's bytes in one buffer (see src/drain.rs).
class Batch {
  constructor(raw) {
    // Every field first, in one order: one hidden class for every batch (the drain's loads of
    // them stay monomorphic).
    this.buf = null;
    this.extras = null;
    this.end = 0; // 1 closed here, 2 closed by the peer, 3 transferred away
    this.reason = 0; // index into CLOSE_REASONS
    this.count = 0;
    this.more = false;
    this.lone = false; // a large message alone, in its own bytes (no header)
    this.base = 8; // where the messages' bytes start
    this.ports = undefined; // the ports of the message decode() last read
    this.origin = ''; // and a window's message's origin and source window id
    this.sourceId = null;
    this.pos = 0;
    this.xpos = 0;
    if (raw === null) return;
    const buf = typeof raw === 'number' ? recvScratch : Array.isArray(raw) ? raw[0] : raw;
    this.buf = buf;
    this.extras = Array.isArray(raw) && raw.length > 1 ? raw[1] : null;
    if (Array.isArray(raw) && raw.length === 1) {
      // A large message alone; more may be queued.
      this.lone = true;
      this.count = 1;
      this.base = 0;
      this.more = true;
      return;
    }
    const end = buf.readUInt32LE(0);
    this.end = end & 0xff;
    this.reason = (end >> 8) & 0xff;
    this.count = buf.readUInt32LE(4);
    this.more = this.count === BATCH || (end & 0x10000) !== 0; // bit 16: stopped early
    this.base = 8 + 4 * this.count;
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
      if (e[1] !== null) ports = e[1].map(late.newPort);
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
// the core queue, in one call, before the port is transferred or exported, so they travel with
// it instead of staying behind in this thread's stash.
function returnStash(port) {
  const batch = port[kStash];
  if (batch === undefined) return;
  port[kStash] = undefined;
  if (batch.pos >= batch.count) return;
  const extras = new Map();
  if (batch.extras !== null) {
    for (let k = batch.xpos; k < batch.extras.length; k++) extras.set(batch.extras[k][0], batch.extras[k]);
  }
  const ranges = [];
  const carried = [];
  for (let i = batch.pos; i < batch.count; i++) {
    ranges.push(batch.start(i), batch.stop(i));
    const e = extras.get(i);
    carried.push(e === undefined ? null : [e[1] === null ? null : e[1].map((np) => np.id), e[2]]);
  }
  native.portRequeue(port[kId], batch.buf, ranges, carried);
}

// Message i of `batch` as an event at `target`: decoded here (a failure is a 'messageerror'
// carrying the error), made into the event and dispatched by the kind's `dispatch(target, data,
// type, batch)` (a plain function, not a method looked up per message: the port's is the hot
// path).
function dispatchMessage(target, batch, i, dispatch) {
  let data;
  let type = 'message';
  try {
    data = batch.decode(i);
  } catch (err) {
    data = err;
    type = 'messageerror';
  }
  dispatch(target, data, type, batch);
}

// A port's message: dispatched with Node's own hybrid dispatch, its ports for the port's
// kCreateEvent, in the port's async context (as Node's MESSAGEPORT resource runs it).
function dispatchToPort(port, data, type, batch) {
  port[kReceivingPorts] = batch.ports;
  batch.ports = undefined;
  port[kInDelivery] = true;
  try {
    port[kAsync].runInAsyncScope(port[kHybridDispatch], port, data, type, undefined);
  } finally {
    port[kReceivingPorts] = undefined;
    port[kInDelivery] = false;
  }
}

// The drain of the kinds that dispatch a whole batch in one turn (BroadcastChannel, Window),
// until the object closes; a port's batch goes through the delivery run instead (drainOne, each
// event its own task), which keeps Node's MessagePort order (a checkpoint between messages,
// the close record, start/stop).
function drainEvents(target, id, dispatch) {
  if (target[kClosed]) return;
  const batch = new Batch(nativeDrain(id, BATCH));
  for (let i = 0; i < batch.count && !target[kClosed]; i++) dispatchMessage(target, batch, i, dispatch);
  if (batch.more && !target[kClosed]) portPoke(id);
}

// NodeEventTarget's own count of a type's listeners (addEventListener, on, once alike).
const { listenerCount } = NodeEventTarget.prototype;
function noop() {}

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
  const resource = port[kAsync];
  try {
    if (listenerCount.call(port, 'close') === 0) {
      // Nobody listens: no event is built (nothing could see it), but the port's scope is
      // still entered, as async_hooks users saw it with an event.
      resource.runInAsyncScope(noop);
    } else {
      const event = batch === undefined
        ? new MessagePortCloseEvent('transferred', false)
        : new MessagePortCloseEvent(CLOSE_REASONS[batch.reason] || 'closed', batch.end === 2);
      resource.runInAsyncScope(port.dispatchEvent, port, event);
    }
  } finally {
    resource.emitDestroy(); // the port is done, as Node's handle is once closed
  }
}

// Node dispatches each message in its own callback scope: process.nextTick callbacks and
// promise jobs queued by one listener run before the next message, while the whole batch still
// runs in one event-loop turn (before timers and immediates). onWake above makes each delivery
// its own task (Node's checkpoint after each), so a port's drain only queues the port; the core
// queue is still drained in batches (one napi crossing per BATCH messages, kept in kStash).
function drainPort(port) {
  if (port[kQueued]) {
    port[kRewoken] = true; // its run may have read "nothing more" already: look again after it
    return;
  }
  port[kQueued] = true;
  running.push(port);
}

// What drainOne did: nothing (NONE), delivered an event with more to come (MORE), or delivered
// the port's last one for now (LAST).
const NONE = 0;
const MORE = 1;
const LAST = 2;

function drainOne(port) {
  const id = port[kId];
  if (port[kDone]) return NONE;
  // Its close record was read already and its 'close' is queued (deferClose): nothing can come
  // after that record, so another drain would only read it again. (A channel closed at both
  // ends wakes each port twice, for its own close and the peer's.)
  if (port[kCloseBatch] !== undefined) return NONE;
  if (port[kClosed] && port[kDiscard]) {
    // Closed here outside a delivery: queued messages are dropped (as Node does); find the
    // close record.
    port[kStash] = undefined;
    for (;;) {
      const b = new Batch(nativeDrain(id, BATCH));
      if (b.end !== 0) {
        if (b.end === 3) return NONE;
        return deferClose(port, b);
      }
      if (!b.more) return NONE;
    }
  }
  if (!port[kReceiving] && !port[kClosed]) {
    // Not started: like Node, only a close record at the front of the queue is processed,
    // also one left in the stash behind the last message delivered before the port stopped.
    const stash = port[kStash];
    if (stash !== undefined) {
      if (stash.pos >= stash.count && stash.end !== 0) {
        port[kStash] = undefined;
        if (stash.end !== 3) {
          return deferClose(port, stash);
        }
      }
      return NONE;
    }
    if (portDepth(id) === 0) {
      const b = new Batch(nativeDrain(id, 1));
      if (b.count > 0) {
        port[kStash] = b.own(); // raced in after the depth check; kept for start()
      } else if (b.end === 1 || b.end === 2) {
        return deferClose(port, b);
      }
    }
    return NONE;
  }
  let batch = port[kStash];
  if (batch === undefined) {
    batch = new Batch(nativeDrain(id, BATCH));
    if (batch.empty) return NONE;
    port[kStash] = batch;
    // A run that starts on a full batch covers everything queued behind it now as well.
    if (port[kChain] === 0 && batch.count === BATCH) port[kLimit] = BATCH + portDepth(id);
  }
  const i = batch.next();
  if (batch.empty) port[kStash] = undefined;
  if (i === undefined) return NONE;
  if (i < 0) {
    if (i === -3) return NONE;
    return deferClose(port, batch);
  }
  dispatchMessage(port, batch, i, dispatchToPort);
  if (port[kClosed] && (port[kDiscard] || !port[kReceiving])) {
    port[kDiscard] = true;
    portPoke(id);
  } else if ((port[kReceiving] || port[kClosed]) &&
             (port[kStash] !== undefined || batch.more || port[kClosed])) {
    return MORE;
  } else if (port[kStash] !== undefined) {
    // Stopped by that delivery (its last 'message' listener went) with the batch not done:
    // a close record right behind is still processed, as Node does.
    portPoke(id);
  }
  return LAST;
}


Object.assign(module.exports, {
  Batch, scheduleDrain, returnStash, dispatchMessage, drainEvents, drainPort, drainOne,
  finishClose, nextCloseSeq,
});
