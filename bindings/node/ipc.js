'use strict';
// Cross-process ports: a port whose peer lives in another process (any language), reached over a
// Unix socket by the Rust transport (webmessaging-ipc). A port from another process is an
// ordinary port here ('message', 'close' — reason 'lost' when the peer's process died —,
// ref/unref, garbage collection); this module only gets the first port across:
// - spawn(): a child process holding one end of a new channel (an inherited descriptor named by
//   WEBMESSAGING_PORT_FD), which it takes with parentPort();
// - listen()/connect(): a server gets one new port per client, as a SharedWorker's 'connect';
// - exportFd()/importFd(): a port as a socket descriptor.
// index.js calls this factory with the internals it shares (the native addon, port creation,
// the env's wake-up and ref count).

const fs = require('fs');
const util = require('util');
const { EventEmitter } = require('events');

const PORT_FD_ENV = 'WEBMESSAGING_PORT_FD';
const ACCEPT_BATCH = 64;

module.exports = function makeIpc(internals) {
  const {
    native, newPort, nativeError, envRef, track, untrack, kWake, kId, kClosed,
    MessagePort, MessageChannel, MessageEvent, returnStash, detachLocally,
  } = internals;

  // "IpcError CODE ERRNO: message" from src/ipc.rs as a Node-style Error with `code` (and
  // `errno`, negative as in Node, when the OS gave one); anything else as the binding maps it.
  function ipcError(err) {
    const m = /^IpcError (\w+) (\d+): ([\s\S]*)$/.exec(err && err.message);
    if (m === null) return nativeError(err);
    const errno = Number(m[2]);
    let code = m[1];
    if (code === 'EIO' && errno !== 0) {
      try {
        code = util.getSystemErrorName(-errno);
      } catch {
        // an errno Node has no name for: keep EIO
      }
    }
    const e = new Error(`${code}: ${m[3]}`);
    e.code = code;
    if (errno !== 0) e.errno = -errno;
    return e;
  }

  function callNative(fn, ...args) {
    try {
      return fn(...args);
    } catch (err) {
      throw ipcError(err);
    }
  }

  function argError(name, what, value) {
    const e = new TypeError(`The "${name}" argument must be ${what}. Received ${util.inspect(value)}`);
    e.code = 'ERR_INVALID_ARG_TYPE';
    return e;
  }

  function checkPort(port) {
    if (!(port instanceof MessagePort)) throw argError('port', 'a webmessaging MessagePort', port);
  }

  function checkPath(path) {
    if (typeof path !== 'string' || path.length === 0) throw argError('path', 'a non-empty string', path);
  }

  /**
   * Exports `port` as a connected Unix socket descriptor, which the caller owns (close it once
   * handed on). The port object is detached, as a transferred one is (it emits 'close' with
   * reason 'transferred'); whoever calls importFd on the descriptor, in any process, holds the
   * port with its backlog. A closed or transferred port is a DataCloneError.
   */
  function exportFd(port) {
    checkPort(port);
    if (port[kClosed]) throw new DOMException('MessagePort is detached', 'DataCloneError');
    returnStash(port); // messages JS took but has not delivered travel with the port
    const fd = callNative(native.ipcExportFd, port[kId]);
    detachLocally(port);
    return fd;
  }

  /**
   * Imports a descriptor made by exportFd (here or in another process, in any language) as a
   * port. The descriptor is taken over: it is closed with the port, or at once if the import
   * fails.
   */
  function importFd(fd) {
    if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
      const e = new RangeError(`The "fd" argument must be a descriptor number. Received ${util.inspect(fd)}`);
      e.code = 'ERR_OUT_OF_RANGE';
      throw e;
    }
    return newPort(callNative(native.ipcImportFd, fd));
  }

  let parent; // undefined: not asked yet; then the port or null
  /**
   * The port the parent process handed to this one (spawn() here, or any language's spawn), or
   * null. The same port on every call: the environment variable is read and removed once.
   */
  function parentPort() {
    if (parent === undefined) {
      const np = callNative(native.ipcParentPort);
      parent = np === null ? null : newPort(np);
    }
    return parent;
  }

  // child_process' stdio option as an array of at least three entries.
  function stdioArray(stdio) {
    if (stdio === undefined || stdio === null) return ['pipe', 'pipe', 'pipe'];
    if (typeof stdio === 'string') return [stdio, stdio, stdio];
    if (!Array.isArray(stdio)) throw argError('options.stdio', 'a string or an array', stdio);
    const out = stdio.slice();
    while (out.length < 3) out.push(undefined);
    return out;
  }

  /**
   * Starts `command` (child_process.spawn's arguments) as a child process holding one end of a
   * new channel, and returns `{ child, port }`: the ChildProcess and the other end. The child's
   * end is an inherited descriptor (after the stdio entries) named by WEBMESSAGING_PORT_FD in
   * its environment (`options.env`, or this process's, plus that variable); the child takes it
   * with parentPort() in any language. If the command cannot start, `child` emits 'error' and
   * the port 'close' (reason 'lost').
   */
  function spawn(command, args, options) {
    if (args !== undefined && args !== null && !Array.isArray(args)) {
      options = args;
      args = [];
    }
    if (args === undefined || args === null) args = [];
    if (options === undefined || options === null) options = {};
    if (typeof options !== 'object') throw argError('options', 'an object', options);
    const stdio = stdioArray(options.stdio);
    const { port1, port2 } = new MessageChannel();
    let fd;
    try {
      fd = exportFd(port2);
    } catch (err) {
      port1.close();
      throw err;
    }
    try {
      const at = stdio.length;
      stdio[at] = fd;
      const env = { ...(options.env || process.env), [PORT_FD_ENV]: String(at) };
      // Loaded here, not with the package: child_process (with net, dgram and the rest) is most
      // of what loading the package would cost otherwise.
      const child = require('child_process').spawn(command, args, { ...options, stdio, env });
      return { child, port: port1 };
    } catch (err) {
      port1.close();
      throw err;
    } finally {
      // The child has its copy (libuv's spawn returns after the exec); ours goes.
      fs.closeSync(fd);
    }
  }

  // Listeners still open: kept from collection (like a server's handle) and closed at exit, so
  // their socket paths do not outlive the process.
  const open = new Set();
  let exitHook = false;
  const kNativeListener = Symbol('webmessaging.nativeListener');
  const kRefed = Symbol('webmessaging.listenerRefed');
  const kPath = Symbol('webmessaging.listenerPath');
  const kToken = Symbol('webmessaging.listenerToken');

  /**
   * A listening Unix socket (made by listen()): emits 'connect' with an event whose `ports[0]`
   * is the new client's port (as a SharedWorker's connect event), 'error' when a client could
   * not be accepted, and 'close' once closed. Keeps the process alive until close() or unref().
   */
  class Listener extends EventEmitter {
    constructor(token, nl, path) {
      if (token !== kToken) {
        // As MessagePort's: made by listen() only.
        const e = new TypeError('Constructor cannot be called (use listen(path))');
        e.code = 'ERR_CONSTRUCT_CALL_INVALID';
        throw e;
      }
      super();
      this[kNativeListener] = nl;
      this[kPath] = path;
      this[kRefed] = false;
      this[kClosed] = false;
    }

    /** The socket path. */
    get path() {
      return this[kPath];
    }

    /**
     * Stops listening and removes the socket path; clients not yet accepted see their port
     * close. Emits 'close' on a later turn (`callback`, if given, listens for it). Idempotent.
     */
    close(callback) {
      if (typeof callback === 'function') this.once('close', callback);
      if (this[kClosed]) return;
      this[kClosed] = true;
      this.unref();
      open.delete(this);
      untrack(this[kNativeListener].id);
      this[kNativeListener].close();
      process.nextTick(() => this.emit('close'));
    }

    /** Keeps the process alive while listening (the default). */
    ref() {
      if (!this[kRefed] && !this[kClosed]) {
        this[kRefed] = true;
        envRef(1);
      }
      return this;
    }

    /** Lets the process exit while listening. */
    unref() {
      if (this[kRefed]) {
        this[kRefed] = false;
        envRef(-1);
      }
      return this;
    }

    hasRef() {
      return this[kRefed];
    }

    // The env's wake-up: clients are waiting.
    [kWake]() {
      if (this[kClosed]) return;
      const nl = this[kNativeListener];
      let ports;
      try {
        ports = nl.accept(ACCEPT_BATCH);
      } catch (err) {
        // One client failed (a refused user id, a broken handshake) or one accept did (out of
        // descriptors; the listener backs off): say so, and go on with the clients after it.
        // Without an 'error' listener this is a warning, not a crash: a client must not be able
        // to bring the server down.
        const e = ipcError(err);
        native.portPoke(nl.id);
        if (this.listenerCount('error') > 0) this.emit('error', e);
        else process.emitWarning(`webmessaging listener ${this[kPath]}: ${e.message}`);
        return;
      }
      if (ports.length === ACCEPT_BATCH || nl.hasDeferred) native.portPoke(nl.id);
      for (const np of ports) {
        const port = newPort(np);
        if (this[kClosed]) {
          port.close();
          continue;
        }
        this.emit('connect', new MessageEvent('connect', { data: '', ports: [port] }));
      }
    }
  }

  /**
   * Listens on a new Unix socket at `path` (created owner-only; connections from another user
   * id are refused). Errors: the path exists (code 'EADDRINUSE', the file is left alone), its
   * directory may not be written ('EACCES').
   */
  function listen(path) {
    checkPath(path);
    const nl = callNative(native.ipcListen, path);
    const listener = new Listener(kToken, nl, path);
    track(nl.id, listener);
    open.add(listener);
    listener.ref();
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const l of open) l[kNativeListener].close();
      });
    }
    // A client may have connected before the notifier was set: look once.
    native.portPoke(nl.id);
    return listener;
  }

  /**
   * Connects to the listener at `path` and resolves with this client's port. Errors (codes):
   * nothing listens there ('ENOENT', 'ECONNREFUSED'), the listener refused this user id
   * ('ECONNREFUSED'), no answer within `options.timeout` milliseconds ('ETIMEDOUT' or the
   * transport's code). The wait happens off the main thread.
   */
  function connect(path, options) {
    try {
      checkPath(path);
    } catch (err) {
      return Promise.reject(err);
    }
    const timeout = options && options.timeout !== undefined ? Number(options.timeout) : null;
    let pending;
    try {
      pending = native.ipcConnect(path, timeout);
    } catch (err) {
      return Promise.reject(ipcError(err));
    }
    return pending.then(newPort, (err) => {
      throw ipcError(err);
    });
  }

  return { spawn, parentPort, listen, connect, exportFd, importFd, Listener };
};
