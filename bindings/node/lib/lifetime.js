'use strict';
// Lifetime: the ids the env's wake-up reports, mapped to their objects (weakly); which objects
// must stay alive while only their listeners reference them; and the process ref count (the
// env's wake-up handle keeps the event loop alive while any object is ref'd).

const { native, kRefed, kDone, kClosing, kListening } = require('./shared.js');

const live = new Map(); // id -> WeakRef<MessagePort | BroadcastChannel | Window>
// A collected object's id leaves `live` (its native half closes itself; see src/port.rs), so a
// program that drops channels without close() does not grow the map.
const forgetOnCollect = new FinalizationRegistry((id) => {
  const ref = live.get(id);
  if (ref !== undefined && ref.deref() === undefined) live.delete(id);
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
function updateHold(obj) {
  if (!obj[kDone] && (obj[kListening] || obj[kRefed] || obj[kClosing])) held.add(obj);
  else held.delete(obj);
}

let refCount = 0;
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

function beginClosing(port) {
  if (port[kClosing] || port[kDone]) return;
  port[kClosing] = true;
  envRef(1);
  updateHold(port);
}

Object.assign(module.exports, { live, track, held, updateHold, envRef, setRef, beginClosing });
