// Types of the `webmessaging` package. Checked for drift against index.js by
// tests/node/types.test.js (every runtime export and MessagePort method is declared here).

/// <reference types="node" />

/** A value that can be posted: anything the structured-clone algorithm accepts. */
export type Transferable = MessagePort | ArrayBuffer;

export interface StructuredSerializeOptions {
  transfer?: ReadonlyArray<Transferable>;
}

/**
 * One end of a channel. Same API and event semantics as `worker_threads`' MessagePort: an
 * EventTarget with Node's emitter-style methods; the first 'message' listener refs and starts
 * the port, the last one unrefs and stops it.
 */
export declare class MessagePort extends EventTarget {
  private constructor();
  postMessage(value: unknown, transfer?: ReadonlyArray<Transferable>): void;
  postMessage(value: unknown, options?: StructuredSerializeOptions): void;
  start(): void;
  close(callback?: () => void): void;
  ref(): void;
  unref(): void;
  hasRef(): boolean;
  onmessage: ((this: MessagePort, ev: MessageEvent) => unknown) | null;
  onmessageerror: ((this: MessagePort, ev: MessageEvent) => unknown) | null;

  on(event: 'message', listener: (value: any) => void): this;
  on(event: 'messageerror', listener: (error: Error) => void): this;
  on(event: 'close', listener: (event: Event) => void): this;
  on(event: string, listener: (...args: any[]) => void): this;
  once(event: 'message', listener: (value: any) => void): this;
  once(event: 'messageerror', listener: (error: Error) => void): this;
  once(event: 'close', listener: (event: Event) => void): this;
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
  readonly port1: MessagePort;
  readonly port2: MessagePort;
}

/** Node's global MessageEvent (`ports` holds our MessagePorts). */
export declare const MessageEvent: typeof globalThis.MessageEvent;
export type MessageEvent = globalThis.MessageEvent;

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
 * Like worker_threads' BroadcastChannel (keeps the process alive until close() or unref()), but
 * backed by the core: channels of the same name in any thread of this process hear each other.
 */
export declare class BroadcastChannel extends EventTarget {
  constructor(name: string);
  readonly name: string;
  postMessage(message: unknown): void;
  close(): void;
  ref(): void;
  unref(): void;
  onmessage: ((this: BroadcastChannel, ev: MessageEvent) => unknown) | null;
  onmessageerror: ((this: BroadcastChannel, ev: MessageEvent) => unknown) | null;
}

export interface WindowPostMessageOptions {
  targetOrigin?: string;
  transfer?: ReadonlyArray<MessagePort>;
  source: Window;
}

/**
 * A stand-in for a browsing context with an origin: origin-checked postMessage (checked at
 * delivery against the target's current origin; a mismatch drops the message silently). The
 * sending window is passed explicitly. Events carry `origin` (the sender's) and `source` (the
 * sending Window). Keeps the process alive while it has a 'message' listener.
 */
export declare class Window extends EventTarget {
  /** `origin`: a URL whose origin the window's document has; opaque ("null") when omitted. */
  constructor(origin?: string | null);
  readonly origin: string;
  navigate(url: string): void;
  postMessage(message: unknown, targetOrigin: string, transfer: ReadonlyArray<MessagePort> | undefined, source: Window): void;
  postMessage(message: unknown, options: WindowPostMessageOptions): void;
  close(): void;
  ref(): void;
  unref(): void;
  onmessage: ((this: Window, ev: MessageEvent) => unknown) | null;
  onmessageerror: ((this: Window, ev: MessageEvent) => unknown) | null;
}
