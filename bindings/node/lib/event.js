'use strict';
// Events: Node's MessageEvent, accepting our ports and windows as `source` and `ports`, and a
// port's 'close' event, which says why the channel ended.

const { NodeMessageEvent, late } = require('./shared.js');
const { codeError } = require('./errors.js');

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
    const ours = (x) => x instanceof late.MessagePort || x instanceof late.Window;
    const sourceOurs = ours(source);
    const portList = ports === undefined ? undefined : [...ports];
    const portsOurs = portList !== undefined && portList.some((p) => p instanceof late.MessagePort);
    super(type, {
      ...rest,
      ...(sourceOurs ? {} : { source }),
      ...(portsOurs ? {} : { ports: portList }),
    });
    if (sourceOurs) Object.defineProperty(this, 'source', { value: source, enumerable: true });
    if (portsOurs) {
      if (!portList.every((p) => p instanceof late.MessagePort)) {
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

Object.assign(module.exports, { MessageEvent, createMessageEvent, MessagePortCloseEvent, CLOSE_REASONS });
