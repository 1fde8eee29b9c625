// Types of the `webmessaging` package. Checked for drift against index.js by
// tests/node/types.test.js (every runtime export and MessagePort method is declared here), and
// type-checked with `tsc --strict` against the README's examples by tests/node/tsc.test.js.

/// <reference types="node" />

import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';

/** What a transfer list may hold: our ports and ArrayBuffers (moved; the originals detach). */
export type Transferable = MessagePort | ArrayBuffer;

export interface StructuredSerializeOptions {
  transfer?: Iterable<Transferable>;
}

/** Receiving-queue limits for `setCapacity` (omitted or null: no limit on that measure). */
export interface Capacity {
  maxMessages?: number | null;
  maxBytes?: number | null;
}

/** Counters of a port's receiving queue and of its posts (`metrics()`). */
export interface PortMetrics {
  /** Messages waiting now. */
  depth: number;
  /** Payload bytes waiting now. */
  queuedBytes: number;
  /** The largest `depth` seen so far. */
  highWaterMark: number;
  /** Messages ever queued here. */
  enqueued: number;
  /** Messages ever taken from the queue. */
  delivered: number;
  /** Messages this port posted. */
  posted: number;
  /** Messages this port posted that were dropped (the peer was closed or gone). */
  dropped: number;
}

/** Why a channel ended, as the 'close' event's `reason`. */
export type CloseReason = 'closed' | 'dropped' | 'doomed' | 'lost' | 'transferred';

/**
 * A port's 'close' event (Node's is a `MessagePortCloseEvent` too). `reason`: 'closed' (close()
 * was called), 'dropped' (the other end was garbage collected or its thread ended), 'doomed' (a
 * port was posted through its own channel), 'lost' (the other end's process exited or was killed
 * without closing it), 'transferred' (this object's port moved away);
 * `byPeer`: whether the other end caused it.
 */
export interface MessagePortCloseEvent extends Event {
  readonly type: 'close';
  readonly reason: CloseReason;
  readonly byPeer: boolean;
}

export interface MessageEventInit<T = any> {
  data?: T;
  origin?: string;
  lastEventId?: string;
  source?: MessagePort | Window | null;
  ports?: MessagePort[];
}

/**
 * Node's MessageEvent, whose `source` may be one of our ports or Windows and whose `ports` are
 * our MessagePorts (Node's own constructor accepts only Node's ports).
 */
export declare class MessageEvent<T = any> extends Event {
  constructor(type: string, eventInitDict?: MessageEventInit<T>);
  readonly data: T;
  readonly origin: string;
  readonly lastEventId: string;
  readonly source: MessagePort | Window | null;
  readonly ports: ReadonlyArray<MessagePort>;
}

/**
 * One end of a channel. Same API and event semantics as `worker_threads`' MessagePort: an
 * EventTarget with Node's emitter-style methods; the first 'message' listener refs and starts
 * the port, the last one unrefs and stops it. A port with a 'message' listener stays alive
 * (is not garbage collected) until it or its peer closes.
 */
export declare class MessagePort extends EventTarget {
  private constructor();
  postMessage(value: unknown, transfer?: Iterable<Transferable> | null): void;
  postMessage(value: unknown, options?: StructuredSerializeOptions): void;
  /** Posts only if the peer's queue has room under its capacity; false (nothing sent) if not. */
  tryPost(value: unknown, transfer?: Iterable<Transferable> | StructuredSerializeOptions | null): boolean;
  /** Posts once the peer's queue has room; rejects with a `TimeoutError` DOMException after `timeoutMs`. */
  postWithTimeout(value: unknown, timeoutMs: number, transfer?: Iterable<Transferable> | StructuredSerializeOptions | null): Promise<void>;
  /** Limits this port's receiving queue for bounded posts (tryPost, postWithTimeout). */
  setCapacity(capacity?: Capacity): void;
  /** Counters of this port's queue and posts. */
  metrics(): PortMetrics;
  start(): void;
  close(callback?: (event: MessagePortCloseEvent) => void): void;
  ref(): void;
  unref(): void;
  hasRef(): boolean;
  onmessage: ((this: MessagePort, ev: MessageEvent) => unknown) | null;
  onmessageerror: ((this: MessagePort, ev: MessageEvent) => unknown) | null;

  addEventListener(type: 'message' | 'messageerror', listener: (this: MessagePort, ev: MessageEvent) => unknown, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: 'close', listener: (this: MessagePort, ev: MessagePortCloseEvent) => unknown, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;

  on(event: 'message', listener: (value: any) => void): this;
  on(event: 'messageerror', listener: (error: Error) => void): this;
  on(event: 'close', listener: (event: MessagePortCloseEvent) => void): this;
  on(event: string, listener: (...args: any[]) => void): this;
  once(event: 'message', listener: (value: any) => void): this;
  once(event: 'messageerror', listener: (error: Error) => void): this;
  once(event: 'close', listener: (event: MessagePortCloseEvent) => void): this;
  once(event: string, listener: (...args: any[]) => void): this;
  off(event: string, listener: (...args: any[]) => void): this;
  addListener(event: string, listener: (...args: any[]) => void): this;
  removeListener(event: string, listener: (...args: any[]) => void): this;
  removeAllListeners(event?: string): this;
  emit(event: string, arg?: unknown): boolean;
  listenerCount(event: string): number;
  eventNames(): string[];
  setMaxListeners(n: number): void;
  getMaxListeners(): number;
}

/** Two entangled ports. */
export declare class MessageChannel {
  constructor();
  readonly port1: MessagePort;
  readonly port2: MessagePort;
}

/** Takes the next message synchronously, started or not: `{ message }`, or undefined if none. */
export declare function receiveMessageOnPort(port: MessagePort): { message: any } | undefined;

/** What exportPort returns: pass it to a Worker (workerData or Node's postMessage). */
export interface ExportedPort {
  readonly webmessagingPort: bigint;
}

/**
 * Moves a port out of this thread: the port object is detached (it emits 'close', like a
 * transferred port) and the returned token can be imported exactly once, in any thread.
 */
export declare function exportPort(port: MessagePort): ExportedPort;

/** Claims a port exported by exportPort (in this or any other thread). */
export declare function importPort(token: ExportedPort | bigint): MessagePort;

/**
 * Sets how long, in microseconds, a thread whose messages have all been delivered keeps
 * watching its event loop for the next one before the loop sleeps (0 turns it off; at most
 * 1000), for every thread of the process; returns the previous value. The default is 50 (0 on
 * a machine with one CPU), or `WEBMESSAGING_LINGER_US` if set. A thread lingers only while its
 * loop has nothing else to do, stops at the first event of any kind, and stops lingering after
 * three windows in a row that caught nothing, until messages come close together again.
 */
export declare function setLinger(microseconds: number): number;

/**
 * Like worker_threads' BroadcastChannel (keeps the process alive until close() or unref()), but
 * backed by the core: channels of the same name in any thread of this process hear each other.
 */
export declare class BroadcastChannel extends EventTarget {
  constructor(name: string);
  readonly name: string;
  postMessage(message: unknown): void;
  close(): void;
  ref(): this;
  unref(): this;
  onmessage: ((this: BroadcastChannel, ev: MessageEvent) => unknown) | null;
  onmessageerror: ((this: BroadcastChannel, ev: MessageEvent) => unknown) | null;
  addEventListener(type: 'message' | 'messageerror', listener: (this: BroadcastChannel, ev: MessageEvent) => unknown, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
}

export interface WindowPostMessageOptions {
  /** "*", "/" (the default: the sender's own origin) or a URL. */
  targetOrigin?: string;
  transfer?: Iterable<MessagePort>;
  /** The sending window (the default: the target itself). */
  source?: Window;
}

/**
 * A stand-in for a browsing context with an origin: origin-checked postMessage (checked at
 * delivery against the target's current origin; a mismatch drops the message silently). The
 * sending window is passed explicitly (the target itself when omitted). Events carry `origin`
 * (the sender's) and `source` (the sending Window). Keeps the process alive while it has a
 * 'message' listener.
 */
export declare class Window extends EventTarget {
  /** `origin`: a URL whose origin the window's document has; opaque ("null") when omitted. */
  constructor(origin?: string | null);
  readonly origin: string;
  navigate(url: string): void;
  postMessage(message: unknown, targetOrigin?: string, transfer?: Iterable<MessagePort> | null, source?: Window): void;
  postMessage(message: unknown, options: WindowPostMessageOptions): void;
  close(): void;
  ref(): void;
  unref(): void;
  onmessage: ((this: Window, ev: MessageEvent) => unknown) | null;
  onmessageerror: ((this: Window, ev: MessageEvent) => unknown) | null;
  addEventListener(type: 'message' | 'messageerror', listener: (this: Window, ev: MessageEvent) => unknown, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
}

// --- Across processes ---------------------------------------------------------------------------

/**
 * An error of the cross-process calls. `code`: 'EADDRINUSE' (the socket path exists),
 * 'EACCES' (not allowed there), 'ENOENT' (nothing listens there, or no such command),
 * 'ECONNREFUSED' (refused: another user id, or not a webmessaging endpoint), 'EMFILE' (out of
 * descriptors), 'EPROTO' (the other side broke the protocol), or another errno name.
 * A port that cannot be exported (closed, transferred) is a `DataCloneError` DOMException.
 */
export interface IpcError extends Error {
  code: 'EADDRINUSE' | 'EACCES' | 'ENOENT' | 'ECONNREFUSED' | 'EMFILE' | 'EPROTO' | (string & {});
  /** The operating system's error number, negative as in Node, when it gave one. */
  errno?: number;
}

/** What spawn returns: the child process and our end of its channel. */
export interface SpawnedChild {
  child: ChildProcess;
  port: MessagePort;
}

/**
 * Starts `command` (child_process.spawn's arguments) as a child process holding one end of a new
 * channel; the child (in any language) takes it with `parentPort()`. Its end is an inherited
 * descriptor after the stdio entries, named by `WEBMESSAGING_PORT_FD` in its environment
 * (`options.env`, or this process's, plus that variable). If the command cannot start, `child`
 * emits 'error' and `port` 'close' (reason 'lost').
 */
export declare function spawn(command: string, args?: readonly string[] | null, options?: SpawnOptions): SpawnedChild;
export declare function spawn(command: string, options?: SpawnOptions): SpawnedChild;

/** The port this process's parent handed it with spawn (in any language), or null; cached. */
export declare function parentPort(): MessagePort | null;

/** A listener's 'connect' event: `ports[0]` is the new client's port (as a SharedWorker's). */
export interface ConnectEvent extends MessageEvent<''> {
  readonly type: 'connect';
  readonly ports: ReadonlyArray<MessagePort>;
}

/**
 * A listening Unix socket (made by `listen`): one new port per client, as a 'connect' event.
 * Keeps the process alive until `close()` or `unref()`.
 */
export declare class Listener extends EventEmitter {
  private constructor();
  /** The socket path. */
  readonly path: string;
  /**
   * Stops listening and removes the socket path; clients not yet accepted see their port close.
   * Emits 'close' on a later turn (`callback`, if given, listens for it). Idempotent.
   */
  close(callback?: () => void): void;
  /** Keeps the process alive while listening (the default). */
  ref(): this;
  /** Lets the process exit while listening. */
  unref(): this;
  hasRef(): boolean;
  on(event: 'connect', listener: (event: ConnectEvent) => void): this;
  on(event: 'error', listener: (error: IpcError) => void): this;
  on(event: 'close', listener: () => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once(event: 'connect', listener: (event: ConnectEvent) => void): this;
  once(event: 'error', listener: (error: IpcError) => void): this;
  once(event: 'close', listener: () => void): this;
  once(event: string | symbol, listener: (...args: any[]) => void): this;
}

/**
 * Listens on a new Unix socket at `path`, created owner-only (connections from another user id
 * are refused). Throws an `IpcError`: 'EADDRINUSE' if the path exists (the file is left alone),
 * 'EACCES' if its directory may not be written.
 */
export declare function listen(path: string): Listener;

export interface ConnectOptions {
  /** Milliseconds to wait for the listener's answer (default: no limit). */
  timeout?: number;
}

/**
 * Connects to the listener at `path` and resolves with this client's port; rejects with an
 * `IpcError` ('ENOENT' or 'ECONNREFUSED' when nothing listens there or it refused). The wait
 * happens off the main thread.
 */
export declare function connect(path: string, options?: ConnectOptions): Promise<MessagePort>;

/**
 * Exports a port as a connected Unix socket descriptor, which the caller then owns. The port
 * object is detached (it emits 'close' with reason 'transferred'); `importFd` on the descriptor,
 * in any process or language, gives the port with its backlog.
 */
export declare function exportFd(port: MessagePort): number;

/** Imports a descriptor made by `exportFd` as a port; the descriptor is taken over. */
export declare function importFd(fd: number): MessagePort;
