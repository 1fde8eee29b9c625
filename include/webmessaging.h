/*
 * webmessaging.h — the C ABI of libwebmessaging (web messaging: MessageChannel, MessagePort,
 * structured clone).
 *
 * GENERATED FILE — DO NOT EDIT. It is produced by cbindgen from ffi/src (see ffi/cbindgen.toml);
 * change the Rust sources and run `make header`. `make test` fails if this file is stale.
 *
 * Conventions: every function returning wm_status returns WM_OK (0) on success; on failure
 * wm_last_error() describes what went wrong on the calling thread. Handles (wm_port, wm_message,
 * wm_value, wm_loop, wm_window, wm_broadcast, wm_listener) are opaque and checked: a NULL handle
 * gives WM_ERR_NULL_ARG, a freed or never-issued one WM_ERR_INVALID_HANDLE. Every *_free function
 * accepts NULL. Status numbers are never reused; see docs/readme/c.md for the ABI policy.
 */

#ifndef WEBMESSAGING_H
#define WEBMESSAGING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * Major version of the library. The SONAME carries it (`libwebmessaging.so.0`); the ABI of
 * everything in this header only changes incompatibly with it.
 */
#define WM_VERSION_MAJOR 0

/**
 * Minor version: new functions, new status codes.
 */
#define WM_VERSION_MINOR 1

/**
 * Patch version: fixes only.
 */
#define WM_VERSION_PATCH 0

/**
 * JSON output budget: the text of `wm_message_to_json` / `wm_value_to_json` may be at most
 * `WM_JSON_BASE_BYTES` plus `WM_JSON_BYTES_PER_UNIT` bytes per unit of the value's size.
 */
#define WM_JSON_BASE_BYTES (1 << 20)

/**
 * Bytes of JSON text allowed per unit of the value's size, where the size counts 4 units for
 * every object, element, property and Map/Set entry and 1 per string code unit, each once
 * however many places refer to it. Every value without shared references fits; shared ones
 * are written at each place they appear (as `JSON.stringify` does) until the budget runs out.
 */
#define WM_JSON_BYTES_PER_UNIT 8

/**
 * The result of every fallible `wm_*` call.
 *
 * `WM_OK` is 0; every other value is an error with a fixed number that is never reused or
 * renumbered (new codes only get new numbers). `wm_status_str` names a code and
 * `wm_last_error` gives the details of the most recent failure on the calling thread.
 */
enum wm_status
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : int32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  /**
   * Success.
   */
  WM_OK = 0,
  /**
   * A required pointer argument was NULL.
   */
  WM_ERR_NULL_ARG = 1,
  /**
   * A handle was never issued, already freed, or of the wrong type.
   */
  WM_ERR_INVALID_HANDLE = 2,
  /**
   * An argument is out of range or malformed (bad index, invalid UTF-8, budget 0...).
   */
  WM_ERR_INVALID_ARG = 3,
  /**
   * The standard's `DataCloneError`: a value or transfer list cannot be cloned or transferred,
   * or a value has no JSON form.
   */
  WM_ERR_DATA_CLONE = 4,
  /**
   * The standard's `InvalidStateError`: the object is in the wrong state for the call (for
   * example receiving on a port that was transferred away).
   */
  WM_ERR_INVALID_STATE = 5,
  /**
   * The standard's `SyntaxError`: a string did not parse (malformed JSON, a bad origin).
   */
  WM_ERR_SYNTAX = 6,
  /**
   * A blocking call's timeout ran out.
   */
  WM_ERR_TIMEOUT = 7,
  /**
   * Nothing to receive right now (non-blocking receive on an empty queue). Only receive calls
   * return it.
   */
  WM_ERR_EMPTY = 8,
  /**
   * The port's queue reached its close record: nothing more will ever arrive.
   */
  WM_ERR_CLOSED = 9,
  /**
   * The receiving queue is at its configured capacity.
   */
  WM_ERR_FULL = 10,
  /**
   * Serialized bytes are malformed or exceed the decoder's limits.
   */
  WM_ERR_DECODE = 11,
  /**
   * A Rust panic was caught at the ABI boundary (a bug in the library: please report it).
   */
  WM_ERR_PANIC = 12,
  /**
   * An operating-system call failed (for example creating the event loop's eventfd).
   */
  WM_ERR_IO = 13,
  /**
   * A value accessor was used on a value of another type (`wm_value_get_number` on a string).
   */
  WM_ERR_WRONG_TYPE = 14,
  /**
   * What was looked up is not there: an object has no property of that key
   * (`wm_value_object_get`), a message has no source window (`wm_message_source`).
   */
  WM_ERR_NOT_FOUND = 15,
  /**
   * A socket path is already taken (`wm_listen` on a path that exists: `EADDRINUSE`).
   */
  WM_ERR_ADDRESS_IN_USE = 16,
  /**
   * The operating system refused access: a socket path or its directory may not be written
   * or read (`EACCES`, `EPERM`).
   */
  WM_ERR_PERMISSION = 17,
  /**
   * The other side refused the connection: nothing accepts at the path any more, the
   * listener refused this user id, or it is not a webmessaging endpoint (`ECONNREFUSED`).
   */
  WM_ERR_REFUSED = 18,
  /**
   * The process or the system ran out of file descriptors (`EMFILE`, `ENFILE`).
   */
  WM_ERR_DESCRIPTORS = 19,
  /**
   * The other process broke the cross-process protocol (bad handshake, malformed frame): the
   * connection or port it concerned is given up; nothing else is affected.
   */
  WM_ERR_PROTOCOL = 20,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum wm_status wm_status;
#else
typedef int32_t wm_status;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * Why a port's queue ended, as passed to `onclose`.
 */
typedef enum {
  /**
   * `wm_port_close` was called.
   */
  WM_CLOSE_CLOSED = 1,
  /**
   * A port handle was freed (or a message carrying it dropped) without being closed: the
   * stand-in for garbage collection.
   */
  WM_CLOSE_DROPPED = 2,
  /**
   * The port was posted through its own channel (the standard's "doomed" case).
   */
  WM_CLOSE_DOOMED = 3,
  /**
   * The peer port's process exited or was killed without closing it (cross-process ports);
   * everything it had sent was delivered first.
   */
  WM_CLOSE_LOST = 4,
} wm_close_reason;

/**
 * The type of a value, as reported by `wm_value_get_type`.
 */
typedef enum {
  /**
   * `undefined`.
   */
  WM_VALUE_UNDEFINED = 0,
  /**
   * `null`.
   */
  WM_VALUE_NULL = 1,
  /**
   * `true` or `false`.
   */
  WM_VALUE_BOOL = 2,
  /**
   * A Number (a double: -0, NaN and infinities included).
   */
  WM_VALUE_NUMBER = 3,
  /**
   * A BigInt.
   */
  WM_VALUE_BIGINT = 4,
  /**
   * A string (UTF-16 code units; lone surrogates allowed).
   */
  WM_VALUE_STRING = 5,
  /**
   * A plain object.
   */
  WM_VALUE_OBJECT = 6,
  /**
   * An Array.
   */
  WM_VALUE_ARRAY = 7,
  /**
   * `new Boolean(b)`.
   */
  WM_VALUE_BOOLEAN_OBJECT = 8,
  /**
   * `new Number(n)`.
   */
  WM_VALUE_NUMBER_OBJECT = 9,
  /**
   * `Object(bigint)`.
   */
  WM_VALUE_BIGINT_OBJECT = 10,
  /**
   * `new String(s)`.
   */
  WM_VALUE_STRING_OBJECT = 11,
  /**
   * A Date.
   */
  WM_VALUE_DATE = 12,
  /**
   * A RegExp.
   */
  WM_VALUE_REGEXP = 13,
  /**
   * An ArrayBuffer.
   */
  WM_VALUE_ARRAY_BUFFER = 14,
  /**
   * A typed array or DataView (see `wm_value_get_view`).
   */
  WM_VALUE_VIEW = 15,
  /**
   * A Map.
   */
  WM_VALUE_MAP = 16,
  /**
   * A Set.
   */
  WM_VALUE_SET = 17,
  /**
   * An Error.
   */
  WM_VALUE_ERROR = 18,
  /**
   * A MessagePort.
   */
  WM_VALUE_PORT = 19,
} wm_value_type;

/**
 * The kind of a typed array or DataView.
 */
typedef enum {
  /**
   * Int8Array.
   */
  WM_VIEW_INT8 = 0,
  /**
   * Uint8Array.
   */
  WM_VIEW_UINT8 = 1,
  /**
   * Uint8ClampedArray.
   */
  WM_VIEW_UINT8_CLAMPED = 2,
  /**
   * Int16Array.
   */
  WM_VIEW_INT16 = 3,
  /**
   * Uint16Array.
   */
  WM_VIEW_UINT16 = 4,
  /**
   * Int32Array.
   */
  WM_VIEW_INT32 = 5,
  /**
   * Uint32Array.
   */
  WM_VIEW_UINT32 = 6,
  /**
   * Float16Array.
   */
  WM_VIEW_FLOAT16 = 7,
  /**
   * Float32Array.
   */
  WM_VIEW_FLOAT32 = 8,
  /**
   * Float64Array.
   */
  WM_VIEW_FLOAT64 = 9,
  /**
   * BigInt64Array.
   */
  WM_VIEW_BIGINT64 = 10,
  /**
   * BigUint64Array.
   */
  WM_VIEW_BIGUINT64 = 11,
  /**
   * DataView.
   */
  WM_VIEW_DATAVIEW = 12,
} wm_view_kind;

/**
 * A `BroadcastChannel`: every other open channel with the same name and origin receives what
 * one posts, in creation order; the sender does not.
 *
 * An opaque handle: create it with `wm_broadcast_new`, release it with `wm_broadcast_free`.
 */
typedef struct wm_broadcast wm_broadcast;

/**
 * A listening Unix socket (`wm_listen`): each client that `wm_connect`s becomes one new port,
 * taken with `wm_listener_accept`, as a `SharedWorker` gets one port per `connect` event.
 *
 * An opaque handle: create it with `wm_listen`, release it with `wm_listener_free`.
 */
typedef struct wm_listener wm_listener;

/**
 * An event loop that delivers the messages of attached ports through callbacks.
 *
 * An opaque handle: create it with `wm_loop_new`, release it with `wm_loop_free`.
 */
typedef struct wm_loop wm_loop;

/**
 * A received message: its serialized value, its transferred ports and ArrayBuffers.
 *
 * An opaque handle owned by whoever received it (`wm_port_try_recv`, `wm_port_recv`); release it
 * with `wm_message_free`. Inside an `onmessage` callback the message is lent to the callback and
 * freed by the loop afterwards.
 */
typedef struct wm_message wm_message;

/**
 * One end of a message channel (the standard's `MessagePort`).
 *
 * An opaque handle: create it with `wm_channel_new` (or receive it with
 * `wm_message_take_port`), release it with `wm_port_free`. A handle stays valid after
 * `wm_port_close` and after being transferred (it is then "detached"), until it is freed.
 */
typedef struct wm_port wm_port;

/**
 * A structured-clone value: a primitive or a reference to an object of a value graph.
 *
 * An opaque handle owned by the caller; release it with `wm_value_free`. Freeing a handle
 * never frees the object for other handles or containers that still refer to it.
 */
typedef struct wm_value wm_value;

/**
 * A window stand-in (a browsing context): an origin and an always-enabled event queue.
 *
 * An opaque handle: create it with `wm_window_new` (or get the sender of a message with
 * `wm_message_source`), release it with `wm_window_free`. The window exists while any handle to
 * it does; messages posted to a window that no longer exists are dropped silently.
 */
typedef struct wm_window wm_window;

/**
 * `onmessage` for broadcast channels (see `wm_broadcast_attach`); `message` is lent as for
 * ports.
 */
typedef void (*wm_broadcast_message_cb)(void *userdata, wm_broadcast *channel, wm_message *message);

/**
 * `onclose` for broadcast channels: called once after `wm_broadcast_close`, after any message
 * delivered before it; the registration is over (its finalizer runs right after).
 */
typedef void (*wm_broadcast_close_cb)(void *userdata, wm_broadcast *channel);

/**
 * Releases `userdata`; called exactly once when a registration ends (detach, replace, close
 * delivered, port freed, port transferred, loop freed), never while one of its callbacks runs.
 */
typedef void (*wm_finalizer)(void *userdata);

/**
 * `onmessage`: called by `wm_loop_dispatch` for each message of an attached port.
 *
 * `port` is the handle that was attached. `message` is lent to the callback: the loop frees it
 * when the callback returns (take its ports with `wm_message_take_port`, copy its value with
 * `wm_message_to_json`/`wm_message_value`; freeing it yourself is harmless).
 */
typedef void (*wm_message_cb)(void *userdata, wm_port *port, wm_message *message);

/**
 * `onclose`: called once by `wm_loop_dispatch` when an attached port's queue reaches its close
 * notice, after every earlier message. `by_peer` is true when the peer caused it, false when
 * this port was closed. The port is detached from the loop before the call (so the
 * finalizer runs right after it); the handle itself stays valid until you free it.
 */
typedef void (*wm_close_cb)(void *userdata, wm_port *port, wm_close_reason reason, bool by_peer);

/**
 * `onconnect`: called by `wm_loop_dispatch` for each client of an attached listener, with a
 * connect event: a message whose value is `undefined` and whose one port (take it with
 * `wm_message_take_port(event, 0, &port)`, as `event.ports[0]` of a `SharedWorker`'s `connect`
 * event) is the new port. `listener` is the handle that was attached. The event is lent to
 * the callback: the loop frees it when the callback returns, and a port not taken is dropped
 * with it (the client gets a `WM_CLOSE_DROPPED` notice).
 */
typedef void (*wm_connect_cb)(void *userdata, wm_listener *listener, wm_message *event);

/**
 * Counters of one port (beyond the standard), filled in by `wm_port_get_metrics`.
 */
typedef struct {
  /**
   * Messages waiting in this port's queue.
   */
  size_t depth;
  /**
   * Payload bytes waiting in this port's queue.
   */
  size_t queued_bytes;
  /**
   * The largest depth this port's queue has reached.
   */
  size_t high_water_mark;
  /**
   * Messages that arrived in this port's queue.
   */
  uint64_t enqueued;
  /**
   * Messages taken out of this port's queue.
   */
  uint64_t delivered;
  /**
   * Messages posted from this port (delivered or not).
   */
  uint64_t posted;
  /**
   * Posts from this port that went nowhere (closed, unentangled or doomed).
   */
  uint64_t dropped;
} wm_port_metrics;

/**
 * Port state flags, as read by `wm_port_get_state`.
 */
typedef struct {
  /**
   * Closed or transferred away (the standard's `[[Detached]]`).
   */
  bool detached;
  /**
   * Still entangled with a peer.
   */
  bool entangled;
  /**
   * Started (`wm_port_start`, `wm_loop_attach`).
   */
  bool started;
} wm_port_state;

/**
 * `onmessage` for windows: called by `wm_loop_dispatch` for each message delivered to an
 * attached window (after its origin check). `message` is lent as for ports; read its origin
 * with `wm_message_origin` and its sender with `wm_message_source`.
 */
typedef void (*wm_window_message_cb)(void *userdata, wm_window *window, wm_message *message);

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * Returns the library version as a static NUL-terminated string, e.g. `"0.1.0"`. Compare with
 * the `WM_VERSION_*` macros of the header you compiled against to detect a mismatched library.
 *
 * Ownership: static; never free it. Thread safety: any thread. Never fails.
 */
const char *wm_version(void);

/**
 * Returns how many handles of all kinds (ports, messages, values, loops...) are live in the
 * process. Meant for tests and leak checks: it is 0 once a program has freed everything.
 *
 * Thread safety: any thread (the count can change as soon as it is read). Never fails.
 */
size_t wm_live_handles(void);

/**
 * Creates a broadcast channel named `name` (NUL-terminated UTF-8) in the origin of the URL
 * `origin`, or in the process's default origin when `origin` is NULL.
 *
 * Ownership: on `WM_OK`, `*out` is a new handle owned by the caller (`wm_broadcast_free`).
 * Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_SYNTAX` (origin not a URL), `WM_ERR_INVALID_ARG` (not UTF-8),
 * `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
 */
wm_status wm_broadcast_new(const char *name, const char *origin, wm_broadcast **out);

/**
 * Posts a value (NULL: `undefined`) to every other open channel of the same name and origin.
 * Broadcast messages carry no transfer list: a MessagePort inside the value is
 * `WM_ERR_DATA_CLONE`. Ownership: `value` is borrowed (copied). Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_INVALID_STATE` (the channel is closed), `WM_ERR_DATA_CLONE`,
 * `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_broadcast_post(wm_broadcast *channel, const wm_value *value);

/**
 * Like `wm_broadcast_post` with the value given as JSON text (mapping as
 * `wm_port_post_json_transfer`).
 * Returns `WM_OK`, `WM_ERR_INVALID_STATE`, `WM_ERR_SYNTAX`, `WM_ERR_INVALID_ARG` (not UTF-8),
 * `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_broadcast_post_json(wm_broadcast *channel, const char *json_text);

/**
 * Takes the next message without waiting. Ownership: on `WM_OK`, `*out` is a new message
 * (`wm_message_free`; `wm_message_origin` gives the sender's origin); else NULL.
 * Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_EMPTY`, `WM_ERR_CLOSED` (after `wm_broadcast_close`),
 * `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_broadcast_try_recv(wm_broadcast *channel, wm_message **out);

/**
 * Takes the next message, waiting up to `timeout_ms` (< 0: forever).
 * Ownership: as `wm_broadcast_try_recv`. Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_TIMEOUT`, `WM_ERR_CLOSED`, `WM_ERR_NULL_ARG`,
 * `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_broadcast_recv(wm_broadcast *channel, int64_t timeout_ms, wm_message **out);

/**
 * Closes the channel: it leaves its group at once (no more messages arrive, queued ones are
 * dropped) and later posts on it return `WM_ERR_INVALID_STATE`. Idempotent.
 * Thread safety: any thread. Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`,
 * `WM_ERR_PANIC`.
 */
wm_status wm_broadcast_close(wm_broadcast *channel);

/**
 * Attaches the channel to the loop: `onmessage` runs in `wm_loop_dispatch` for each message,
 * `onclose` once after `wm_broadcast_close`. Rules as `wm_loop_attach`.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_broadcast_attach(wm_loop *l,
                              wm_broadcast *channel,
                              wm_broadcast_message_cb onmessage,
                              wm_broadcast_close_cb onclose,
                              void *userdata,
                              wm_finalizer finalizer);

/**
 * Detaches the channel from the loop (rules as `wm_loop_detach`).
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_broadcast_detach(wm_loop *l, wm_broadcast *channel);

/**
 * Releases the handle (and its loop registration); the last handle of a channel that was not
 * closed closes it. Accepts NULL. Thread safety: any thread, including inside its callbacks.
 * Returns `WM_OK`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_broadcast_free(wm_broadcast *channel);

/**
 * Creates an event loop with its pollable descriptor.
 *
 * Ownership: on `WM_OK`, `*out` is a new loop owned by the caller (`wm_loop_free`); on failure
 * NULL. Thread safety: any thread; see `wm_loop_dispatch` for where callbacks run.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_IO` (no descriptor could be made), `WM_ERR_PANIC`.
 */
wm_status wm_loop_new(wm_loop **out);

/**
 * Writes the loop's file descriptor to `*fd`. It is readable (`POLLIN`/`EPOLLIN`, level
 * triggered) whenever some attached port has something to deliver; then call
 * `wm_loop_dispatch`. Do not read, write or close it yourself; it stays valid until
 * `wm_loop_free`.
 *
 * Thread safety: any thread. Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`,
 * `WM_ERR_PANIC`.
 */
wm_status wm_loop_fd(const wm_loop *l, int *fd);

/**
 * Attaches a port to the loop with its callbacks, and starts the port (setting `onmessage`
 * starts a port, R-CH-5). From now on `wm_loop_dispatch` calls `onmessage` for each message of
 * the port, in order, then `onclose` once when its queue ends. Either callback may be NULL.
 * Attaching a port that is already attached (to this or another loop) replaces its previous
 * registration, whose finalizer runs. Messages already queued are delivered too.
 *
 * Ownership: the loop does not take the port handle: you still free it with `wm_port_free`
 * (which detaches it). `userdata` is yours; the library passes it to the callbacks and, exactly
 * once when the registration ends, to `finalizer` (may be NULL). If this call fails, nothing is
 * registered and `finalizer` is not called.
 * Thread safety: any thread. Callbacks run only on the thread calling `wm_loop_dispatch`.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_loop_attach(wm_loop *l,
                         wm_port *port,
                         wm_message_cb onmessage,
                         wm_close_cb onclose,
                         void *userdata,
                         wm_finalizer finalizer);

/**
 * Detaches a port from the loop: no more callbacks for it (one already running on the
 * dispatching thread finishes), and its finalizer runs (now, or right after that callback).
 * The port stays started (a started queue is never disabled again, R-CH-7); its messages wait
 * for `wm_port_try_recv`/`wm_port_recv` or a new attach. Detaching a port that is not attached
 * to this loop does nothing.
 *
 * Thread safety: any thread, including inside the port's own callbacks.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_loop_detach(wm_loop *l, wm_port *port);

/**
 * Runs callbacks for ready ports on the calling thread: up to `budget` messages and close
 * notices in all (0 means a default of 1024), per port in order, ports taking turns by up to
 * 64 messages. Ports with more left stay ready and the descriptor stays readable. Call it
 * when the descriptor is readable; calling it at other times is harmless (`*dispatched` = 0).
 *
 * Callbacks may call back into the library, including posting, closing, attaching, detaching
 * or freeing their own port, taking ports out of the message, and freeing the loop (dispatch
 * then stops after that callback). They run with no library lock held. Only one thread may
 * dispatch a loop at a time, and a callback cannot dispatch its own loop recursively.
 *
 * Ownership: `dispatched` may be NULL; else it receives the number of callbacks run.
 * Thread safety: any one thread at a time; that thread runs the callbacks.
 * Returns `WM_OK`, `WM_ERR_INVALID_STATE` (already dispatching: another thread, or a callback of
 * this loop), `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_loop_dispatch(wm_loop *l, size_t budget, size_t *dispatched);

/**
 * Waits up to `timeout_ms` (< 0: forever) for the loop's descriptor to become readable, for
 * programs without an event loop of their own (`poll` on the descriptor).
 *
 * Thread safety: any thread. Returns `WM_OK` (something is ready: call `wm_loop_dispatch`),
 * `WM_ERR_TIMEOUT`, `WM_ERR_IO` (poll failed other than by a signal), `WM_ERR_NULL_ARG`,
 * `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_loop_wait(wm_loop *l, int64_t timeout_ms);

/**
 * Releases the loop: every attached port is detached (each finalizer runs: now, or right after
 * the callback that is running it), and the descriptor is closed once no call is using the loop
 * any more. The ports themselves stay valid and started; free them with `wm_port_free`.
 *
 * Ownership: consumes the handle. Accepts NULL (does nothing, returns `WM_OK`).
 * Thread safety: any thread, including inside a callback of this loop (dispatch stops after it).
 * Returns `WM_OK`, `WM_ERR_INVALID_HANDLE` (already freed or never issued), `WM_ERR_PANIC`.
 */
wm_status wm_loop_free(wm_loop *l);

/**
 * Starts a child process holding one end of a new message channel and gives the other end to
 * the caller. The child gets its end with `wm_parent_port` (or its language's `parent_port()`):
 * it inherits one socket descriptor, named by the environment variable `WEBMESSAGING_PORT_FD`.
 *
 * `argv` is the child's argument vector, NULL-terminated; `argv[0]` is the program, looked up
 * on `PATH` when it contains no slash, as `execvp` does. `envp` is the child's whole
 * environment as `"NAME=value"` strings, NULL-terminated, or NULL to inherit this process's
 * environment (`WEBMESSAGING_PORT_FD` is added either way). Strings may hold any bytes but NUL.
 * The child inherits this process's standard input, output and error.
 *
 * Ownership: on `WM_OK`, `*pid` is the child's process id (reap it with `waitpid`; the library
 * neither waits for nor kills the child) and `*port` a new port handle owned by the caller
 * (`wm_port_free`), not started, entangled with the child's port. On failure `*port` is NULL,
 * `*pid` is -1, and no child is left running.
 * Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG` (`argv`, `pid` or `port`), `WM_ERR_INVALID_ARG` (`argv`
 * empty, an `envp` entry without `=`), `WM_ERR_NOT_FOUND` (no such program),
 * `WM_ERR_PERMISSION` (not executable), `WM_ERR_DESCRIPTORS`, `WM_ERR_IO`, `WM_ERR_PANIC`.
 */
wm_status wm_spawn(const char *const *argv, const char *const *envp, int *pid, wm_port **port);

/**
 * Takes the port a parent process gave this one (`wm_spawn`, or any language's `spawn`):
 * reads the environment variable `WEBMESSAGING_PORT_FD`, removes it, and imports the descriptor
 * it names. Only the first call finds it; later calls return `WM_ERR_NOT_FOUND`.
 *
 * Call it early, before starting threads that read the environment (it removes a variable).
 * Ownership: on `WM_OK`, `*out` is a new port handle owned by the caller (`wm_port_free`), not
 * started; on failure NULL.
 * Returns `WM_OK`, `WM_ERR_NOT_FOUND` (this process was not given a port, or it was taken
 * already), `WM_ERR_IO` (the variable does not name an open Unix stream socket: it is removed
 * all the same, and a descriptor it names that is not a socket is left open),
 * `WM_ERR_DESCRIPTORS`, `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
 */
wm_status wm_parent_port(wm_port **out);

/**
 * Listens on a new Unix socket at `path`, created readable and writable by the owner only.
 * Each client that connects (`wm_connect`, or `connect` in any language) becomes one new port,
 * taken with `wm_listener_accept`. Connections from another user id are refused.
 *
 * `path` is a NUL-terminated UTF-8 file name (at most about 100 bytes, the limit of a Unix
 * socket address). It must not exist: an existing file is never replaced.
 * Ownership: on `WM_OK`, `*out` is a new listener owned by the caller (`wm_listener_free`, which
 * also removes the socket file); on failure NULL.
 * Thread safety: any thread; the listener may be used from any thread.
 * Returns `WM_OK`, `WM_ERR_ADDRESS_IN_USE` (the path exists), `WM_ERR_PERMISSION` (its directory
 * is not writable), `WM_ERR_NOT_FOUND` (its directory does not exist), `WM_ERR_INVALID_ARG`
 * (not UTF-8, empty, too long), `WM_ERR_NULL_ARG`, `WM_ERR_DESCRIPTORS`, `WM_ERR_IO`,
 * `WM_ERR_PANIC`.
 */
wm_status wm_listen(const char *path, wm_listener **out);

/**
 * Takes the next client's port, waiting up to `timeout_ms` as every receive call does: < 0
 * waits without limit, 0 does not wait, > 0 waits that many milliseconds (`WM_ERR_TIMEOUT`
 * when no client came).
 *
 * A client whose connection failed (another user id, a broken handshake, no descriptor left)
 * makes the accept that reaches it return that client's error (`WM_ERR_REFUSED`,
 * `WM_ERR_PROTOCOL`, `WM_ERR_DESCRIPTORS`, `WM_ERR_IO`); the listener goes on, and the next
 * accept takes the next client.
 *
 * Ownership: on `WM_OK`, `*out` is a new port handle owned by the caller (`wm_port_free`), not
 * started, entangled with the client's port; on failure NULL.
 * Thread safety: any thread. If several threads accept on one listener, each client goes to one.
 * Returns `WM_OK`, `WM_ERR_TIMEOUT`, `WM_ERR_CLOSED` (`wm_listener_close` was called), a failed
 * client's error (above), `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_listener_accept(wm_listener *listener, int64_t timeout_ms, wm_port **out);

/**
 * Writes the listener's file descriptor to `*fd`, for programs with their own event loop
 * (epoll, poll, libuv, GLib): it is readable (`POLLIN`/`EPOLLIN`, level triggered) exactly
 * while a client's port waits to be taken — then call `wm_listener_accept(listener, 0, &port)`
 * until it returns `WM_ERR_TIMEOUT` — and for good once the listener is closed (accept then
 * returns `WM_ERR_CLOSED`). Do not read, write or close it yourself; it stays valid until
 * `wm_listener_free`.
 *
 * Thread safety: any thread. Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`,
 * `WM_ERR_PANIC`.
 */
wm_status wm_listener_fd(const wm_listener *listener, int *fd);

/**
 * Stops listening: removes the socket file, refuses new clients, and makes
 * `wm_listener_accept` return `WM_ERR_CLOSED` (also in threads blocked in it). Ports already
 * accepted are not affected. Idempotent. The handle stays valid: free it with
 * `wm_listener_free`.
 *
 * Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_listener_close(wm_listener *listener);

/**
 * Attaches a listener to a loop: from now on `wm_loop_dispatch` calls `onconnect` once per
 * client, on the dispatching thread, with a connect event carrying the client's port (see
 * `wm_connect_cb`). For programs that wait with `wm_loop_wait` or watch only `wm_loop_fd`;
 * `wm_listener_fd` serves programs that prefer to accept themselves. Clients whose connection
 * failed (see `wm_listener_accept`) are skipped. Attaching a listener that
 * is already attached replaces its registration (whose finalizer runs). When the listener is
 * closed, the registration ends (its finalizer runs; no callback).
 *
 * Ownership: the loop does not take the listener handle: free it with `wm_listener_free` (which
 * detaches it). `userdata` is yours; it is passed to `onconnect` and, once when the
 * registration ends, to `finalizer` (may be NULL). If this call fails, nothing is registered and
 * `finalizer` is not called.
 * Thread safety: any thread. Callbacks run only on the thread calling `wm_loop_dispatch`.
 * Returns `WM_OK`, `WM_ERR_CLOSED` (the listener is closed), `WM_ERR_NULL_ARG`,
 * `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_listener_attach(wm_loop *l,
                             wm_listener *listener,
                             wm_connect_cb onconnect,
                             void *userdata,
                             wm_finalizer finalizer);

/**
 * Detaches a listener from the loop: no more `onconnect` calls (one already running finishes),
 * and its finalizer runs. Clients wait for `wm_listener_accept` or a new attach. Detaching a
 * listener that is not attached to this loop does nothing.
 *
 * Thread safety: any thread, including inside its own callback.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_listener_detach(wm_loop *l, wm_listener *listener);

/**
 * Releases a listener handle, closing it first as `wm_listener_close` does (the socket file is
 * removed). Ports it accepted are not affected. A thread blocked in `wm_listener_accept` on it
 * returns (`WM_ERR_CLOSED`).
 *
 * Ownership: consumes the handle. Accepts NULL (does nothing, returns `WM_OK`).
 * Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_INVALID_HANDLE` (already freed or never issued), `WM_ERR_PANIC`.
 */
wm_status wm_listener_free(wm_listener *listener);

/**
 * Connects to a listener at `path` (`wm_listen`, or `listen` in any language) and returns this
 * client's port, entangled with the one the listener's accept gets. Waits up to `timeout_ms`
 * for the listener's answer (< 0: without limit; 0: the answer must be there at once).
 *
 * Ownership: on `WM_OK`, `*out` is a new port handle owned by the caller (`wm_port_free`), not
 * started; on failure NULL. `path` is borrowed for the call.
 * Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_NOT_FOUND` (no socket at the path), `WM_ERR_REFUSED` (nobody
 * listens there any more, or the listener refused this user id), `WM_ERR_PERMISSION`,
 * `WM_ERR_TIMEOUT`, `WM_ERR_PROTOCOL` (not a webmessaging listener), `WM_ERR_INVALID_ARG`
 * (`path` not UTF-8, empty, or too long for a socket address), `WM_ERR_NULL_ARG`, `WM_ERR_DESCRIPTORS`, `WM_ERR_IO`,
 * `WM_ERR_PANIC`.
 */
wm_status wm_connect(const char *path,
                     int64_t timeout_ms,
                     wm_port **out);

/**
 * Exports the port as a connected Unix socket descriptor, to hand it to another process (for
 * example with `SCM_RIGHTS`, or by inheritance) or to another copy of this library in this
 * process (the Python or Node binding), which imports it (`wm_port_import_fd`, `import_fd`,
 * `importFd`) as a port entangled with this port's peer, with its backlog.
 *
 * The port is detached here as by a transfer: the handle stays valid (free it with
 * `wm_port_free`) but can no longer send or receive, and its loop registration is dropped.
 * Ownership: on `WM_OK`, `*fd` is a new descriptor owned by the caller, with close-on-exec
 * set; closing it without importing it drops the port (its peer gets a close notice). On
 * failure `*fd` is -1 and the port is unchanged.
 * Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_DATA_CLONE` (the port is closed or already transferred),
 * `WM_ERR_DESCRIPTORS`, `WM_ERR_IO`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_port_export_fd(wm_port *port, int *fd);

/**
 * Imports a descriptor made by `wm_port_export_fd` (in this process or another, by any of the
 * library's languages) as a port, entangled with the exported port's peer, with its backlog.
 *
 * Ownership: on `WM_OK` the library owns `fd` (it is closed here; do not use or close it
 * again) and `*out` is a new port handle owned by the caller (`wm_port_free`), not started.
 * On failure `*out` is NULL and `fd` is still the caller's to close (if the failure came from
 * what was read on it, that part is lost).
 * Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_INVALID_ARG` (`fd` is negative, not open, or not a socket),
 * `WM_ERR_PROTOCOL` (the socket does not carry an exported port), `WM_ERR_DESCRIPTORS`,
 * `WM_ERR_IO`, `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
 */
wm_status wm_port_import_fd(int fd, wm_port **out);

/**
 * Waits until every message posted before this call to a port whose peer is in another process
 * has been written to its socket (or its peer is gone), up to `timeout_ms` (< 0: without limit,
 * 0: just look). The library does this by itself when the process exits normally (through
 * `exit` or a return from `main`, for up to 5 seconds), so a program that posts, closes and
 * exits loses nothing; call it before `_exit`, `abort` or `exec`, or to bound the wait yourself.
 *
 * Thread safety: any thread. In a child forked without `exec` it cannot wait for the parent's
 * transport and returns `WM_ERR_TIMEOUT` at once.
 * Returns `WM_OK` (everything was written, or no port ever left this process),
 * `WM_ERR_TIMEOUT`, `WM_ERR_PANIC`.
 */
wm_status wm_flush(int64_t timeout_ms);

/**
 * Frees a string the library returned (`wm_message_to_json`, `wm_value_to_json`,
 * `wm_value_get_string`...).
 *
 * Ownership: consumes `s`, which must come from this library and not be freed before.
 * Strings are plain `malloc` memory, not handles: freeing one twice is undefined behaviour.
 * Accepts NULL. Thread safety: any thread. Never fails.
 */
void wm_string_free(char *s);

/**
 * Writes the number of ports the message carries (its `event.ports.length`, R-CH-11/30),
 * counting ports already taken, into `*out`.
 *
 * Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_message_port_count(const wm_message *msg, size_t *out);

/**
 * Takes transferred port number `i` (in transfer-list order) out of the message as a new
 * handle. The port is entangled with its old peer (R-CH-25), not started (R-CH-28), and its
 * backlog came with it (R-CH-26). A port that is never taken is dropped with the message (its
 * peer gets a `WM_CLOSE_DROPPED` notice).
 *
 * Ownership: on `WM_OK`, `*out` is a new port handle owned by the caller (`wm_port_free`); on
 * failure `*out` is NULL. Each port can be taken once.
 * Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_INVALID_ARG` (`i` out of range), `WM_ERR_INVALID_STATE` (already
 * taken), `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_message_take_port(wm_message *msg, size_t i, wm_port **out);

/**
 * Lends out the message's serialized value (wire format) as `*data`/`*len`, for forwarding it
 * with `wm_port_post_serialized` or decoding it yourself.
 *
 * Ownership: the bytes belong to the message and stay valid until `wm_message_free`; do not
 * free or modify them. Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_message_serialized(const wm_message *msg, const uint8_t **data, size_t *len);

/**
 * Decodes the message's value and writes it as JSON text (UTF-8, NUL-terminated) to `*out`.
 *
 * Mapping (strict, never lossy in silence): `null`, booleans, finite numbers, strings, dense
 * arrays and plain objects map to JSON (`-0` is written `-0`; a string's lone surrogates are
 * written as `\uXXXX` escapes). `undefined`, NaN and infinities, BigInt, Date, RegExp, Map, Set,
 * ArrayBuffers and views, Errors, boxed primitives, sparse arrays, arrays with extra properties
 * and cycles have no JSON form: `WM_ERR_DATA_CLONE` (use `wm_message_value` for those).
 * A value reached twice (a shared reference without a cycle) is written twice, within a
 * budget: the text may be at most `WM_JSON_BASE_BYTES` (1 MiB) plus `WM_JSON_BYTES_PER_UNIT`
 * (8) bytes per unit of the value's size (4 units per object, element, property and entry, 1
 * per string code unit, each counted once however often it is referenced). Every value
 * without shared references fits; one whose shared references expand past the budget is
 * `WM_ERR_DATA_CLONE`, with `wm_last_error` saying so.
 *
 * Ownership: on `WM_OK`, `*out` is a new string owned by the caller; free it with
 * `wm_string_free`. On failure `*out` is NULL. Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_DECODE` (malformed bytes, the standard's `messageerror`, or sparse
 * arrays past their budget, see `wm_message_value`), `WM_ERR_DATA_CLONE` (no JSON form, or
 * past the JSON budget), `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_message_to_json(const wm_message *msg, char **out);

/**
 * Decodes the message's value into a new value tree (every type of the value model, see the
 * `wm_value_*` functions).
 *
 * A sparse array is a length with only its present elements behind it, so a few bytes can
 * claim millions of elements. The lengths of a message's sparse arrays may add up to at most
 * 2^20 plus 16 per byte of the message; past that the message is refused with `WM_ERR_DECODE`.
 *
 * Ownership: on `WM_OK`, `*out` is a new value owned by the caller (`wm_value_free`); on
 * failure `*out` is NULL. Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_DECODE` (malformed bytes, or sparse arrays past their budget),
 * `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_message_value(const wm_message *msg, wm_value **out);

/**
 * Lends out the message's origin: the sender's serialized origin for window and broadcast
 * messages (`"https://a.test"`, or `"null"` for an opaque origin; it comes from the sending
 * window or channel, never from the sender's data — check it before trusting the data), and
 * `""` for port messages (R-CH-11).
 *
 * Ownership: the string belongs to the message (valid until `wm_message_free`).
 * Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_message_origin(const wm_message *msg, const char **out);

/**
 * Writes a new handle to the window that sent this window message (its `event.source`), to
 * reply with `wm_window_post`.
 *
 * Ownership: on `WM_OK`, `*out` is a new window handle owned by the caller (`wm_window_free`);
 * otherwise NULL. Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_NOT_FOUND` (not a window message, or the sending window is gone),
 * `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_message_source(const wm_message *msg, wm_window **out);

/**
 * Releases a message and every port in it that was not taken (those ports are dropped: their
 * peers get a `WM_CLOSE_DROPPED` notice).
 *
 * Ownership: consumes the handle; bytes lent by `wm_message_serialized` become invalid.
 * Accepts NULL (does nothing, returns `WM_OK`). Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_INVALID_HANDLE` (already freed or never issued), `WM_ERR_PANIC`.
 */
wm_status wm_message_free(wm_message *msg);

/**
 * Creates a message channel: two new ports, entangled with each other, not started
 * (`new MessageChannel()`, R-CH-1).
 *
 * Ownership: on `WM_OK`, `*port1` and `*port2` are new handles owned by the caller; release each
 * with `wm_port_free`. On failure both are set to NULL (when not NULL themselves).
 * Thread safety: any thread. The ports may be used from any thread.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
 */
wm_status wm_channel_new(wm_port **port1, wm_port **port2);

/**
 * Posts a value to the port's entangled peer, transferring the ports in `transfer`
 * (`port.postMessage(value, transfer)`, R-CH-13..24).
 *
 * `value` is copied (serialized) before the call returns; the caller keeps owning it. A NULL
 * `value` posts `undefined`. `transfer` is an array of `n` port handles (NULL when `n` is 0):
 * on success each of them is detached (it stays a valid handle you must still free, but it can
 * no longer send or receive; its loop registration, if any, is dropped and its finalizer runs),
 * and the receiver gets new handles for them through `wm_message_take_port`.
 *
 * Errors are checked before anything is detached: `transfer` holding `port` itself, a port
 * twice, or a closed or already transferred port is `WM_ERR_DATA_CLONE`. `transfer` holding the
 * peer is not an error: the peer is detached and the message dropped (the channel is lost,
 * R-CH-14). Posting from a closed or unentangled port silently drops the message but still
 * detaches the transferred ports (R-CH-17). Posting never blocks and ignores capacity.
 *
 * Thread safety: any thread, concurrently with any other call on either port.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG` (port, or transfer with n > 0, or an element),
 * `WM_ERR_INVALID_HANDLE`, `WM_ERR_DATA_CLONE`, `WM_ERR_PANIC`.
 */
wm_status wm_port_post(wm_port *port, const wm_value *value, wm_port *const *transfer, size_t n);

/**
 * Like `wm_port_post`, but the value is given as JSON text (NUL-terminated UTF-8), mapped as
 * described in `wm_port_post_json_transfer`. Equivalent to
 * `wm_port_post_json_transfer(port, json, NULL, 0)`.
 *
 * Ownership: `json` is borrowed for the call. Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_INVALID_ARG` (not UTF-8),
 * `WM_ERR_SYNTAX` (malformed JSON), `WM_ERR_PANIC`.
 */
wm_status wm_port_post_json(wm_port *port, const char *json);

/**
 * Posts a value given as JSON text with a transfer list.
 *
 * JSON maps to the value model as `JSON.parse` does: `null`, booleans, numbers (as doubles),
 * strings, arrays (dense `Array`s) and objects (plain `Object`s, keys in document order; a
 * repeated key keeps its last value). The transferred ports are not referenced by the JSON;
 * the receiver finds them with `wm_message_take_port`. `json` is borrowed for the call; the
 * transfer rules are those of `wm_port_post`.
 *
 * Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_INVALID_ARG` (not UTF-8),
 * `WM_ERR_SYNTAX` (malformed JSON), `WM_ERR_DATA_CLONE` (transfer list), `WM_ERR_PANIC`.
 */
wm_status wm_port_post_json_transfer(wm_port *port,
                                     const char *json,
                                     wm_port *const *transfer,
                                     size_t n);

/**
 * Posts already-serialized wire-format bytes (see the project's wire-format spec) with a
 * transfer list, for programs that serialize themselves or forward `wm_message_serialized`
 * bytes. The bytes are copied and not validated here: a receiver that cannot decode them gets
 * `WM_ERR_DECODE` from its decoding call (the standard's `messageerror`), and nothing else breaks.
 *
 * Ownership: `data` (`len` bytes; may be NULL when `len` is 0) is borrowed for the call.
 * Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_DATA_CLONE`, `WM_ERR_PANIC`.
 */
wm_status wm_port_post_serialized(wm_port *port,
                                  const uint8_t *data,
                                  size_t len,
                                  wm_port *const *transfer,
                                  size_t n);

/**
 * Posts a value with ports *and ArrayBuffers* transferred (`postMessage(value, [port,
 * buffer])`): the `m` buffers in `buffers` (ArrayBuffer values, usually referenced by `value`)
 * move to the receiver without a copy and are left detached here (length 0; posting them
 * again is `WM_ERR_DATA_CLONE`, R-SC-10). Otherwise as `wm_port_post`. `value` may be NULL
 * (undefined) only when `m` is 0.
 *
 * Ownership: all handles stay the caller's. Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_DATA_CLONE` (a buffer that is not an ArrayBuffer, detached, or listed
 * twice; the transfer-list errors of `wm_port_post`), `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`,
 * `WM_ERR_PANIC`.
 */
wm_status wm_port_post_transfer(wm_port *port,
                                const wm_value *value,
                                wm_port *const *transfer,
                                size_t n,
                                const wm_value *const *buffers,
                                size_t m);

/**
 * Like `wm_port_post`, but respects the receiver's capacity (`wm_port_set_capacity`): when the
 * peer's queue is full, it waits for room as `timeout_ms` says, like every timeout of this
 * library: 0 does not wait (`WM_ERR_FULL` at once), > 0 waits up to that many milliseconds
 * (then `WM_ERR_TIMEOUT`), < 0 waits without limit (until a receive makes room, or a close
 * makes the post go nowhere as `wm_port_post` would). On `WM_ERR_FULL` and `WM_ERR_TIMEOUT`
 * nothing is sent or detached.
 *
 * Ownership and transfer rules: as `wm_port_post`. Thread safety: any thread; it may block
 * the calling thread as `timeout_ms` allows.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_DATA_CLONE`,
 * `WM_ERR_FULL`, `WM_ERR_TIMEOUT`, `WM_ERR_PANIC`.
 */
wm_status wm_port_try_post(wm_port *port,
                           const wm_value *value,
                           wm_port *const *transfer,
                           size_t n,
                           int64_t timeout_ms);

/**
 * Starts the port: enables its queue so an attached event loop delivers its messages
 * (`port.start()`, R-CH-4). Idempotent, and not an error on a closed or transferred port (R-CH-8).
 * `wm_loop_attach` starts the port itself (like setting `onmessage`). Explicit receive calls
 * read a port whether it is started or not.
 *
 * Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_port_start(wm_port *port);

/**
 * Closes the port (`port.close()`, R-CH-18..23): it is detached and disentangled at once (later
 * posts from either side go nowhere), and the peer receives everything already sent and then a
 * close notice (`WM_ERR_CLOSED` from its receive calls, `onclose` on its loop). Messages already
 * queued at this port can still be received (R-CH-21), then this port reports `WM_ERR_CLOSED`
 * too. Idempotent. The handle stays valid: free it with `wm_port_free`.
 *
 * Thread safety: any thread; wakes threads blocked in `wm_port_recv` on either end.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_port_close(wm_port *port);

/**
 * Releases a port handle. If the port was neither closed nor transferred, this is the library's
 * stand-in for garbage collection: the channel is disentangled and the peer gets a close notice
 * with reason `WM_CLOSE_DROPPED` (R-CH-35). A loop registration is dropped (its finalizer runs
 * now, or right after the callback that is running it returns). A call running concurrently on
 * another thread with this handle completes normally; later calls with it return
 * `WM_ERR_INVALID_HANDLE`. A thread blocked in `wm_port_recv` on this port keeps it alive until
 * it returns: call `wm_port_close` first to wake it.
 *
 * Ownership: consumes the handle. Accepts NULL (does nothing, returns `WM_OK`).
 * Thread safety: any thread, including from inside this port's own callbacks.
 * Returns `WM_OK`, `WM_ERR_INVALID_HANDLE` (already freed or never issued), `WM_ERR_PANIC`.
 */
wm_status wm_port_free(wm_port *port);

/**
 * Takes the next message from the port's queue without waiting (like Node's
 * `receiveMessageOnPort`; works whether or not the port is started).
 *
 * Ownership: on `WM_OK`, `*out` is a new message owned by the caller; free it with
 * `wm_message_free`. On any other status `*out` is set to NULL.
 * Thread safety: any thread. If two threads receive from one port, each message goes to one.
 * Returns `WM_OK`, `WM_ERR_EMPTY` (nothing queued now), `WM_ERR_CLOSED` (the queue reached its
 * close notice; every later call returns it too), `WM_ERR_INVALID_STATE` (the port was
 * transferred away), `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_port_try_recv(wm_port *port, wm_message **out);

/**
 * Takes the next message from the port's queue, blocking up to `timeout_ms` milliseconds
 * (`timeout_ms` < 0: until a message or the close notice arrives; 0: do not wait).
 *
 * Ownership: as `wm_port_try_recv`.
 * Thread safety: any thread; blocks only the calling thread, holding no lock another call needs.
 * Returns `WM_OK`, `WM_ERR_TIMEOUT`, `WM_ERR_CLOSED`, `WM_ERR_INVALID_STATE` (transferred away,
 * also while waiting), `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_port_recv(wm_port *port, int64_t timeout_ms, wm_message **out);

/**
 * Limits the port's receiving queue (beyond the standard): `max_messages` and `max_bytes`, 0
 * meaning "no limit". Only `wm_port_try_post` from the peer respects the limits; plain posts
 * keep the web's unbounded semantics. The limits travel with the port when it is transferred.
 *
 * Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_port_set_capacity(wm_port *port, size_t max_messages, size_t max_bytes);

/**
 * Reads the port's counters into `*out` (all zero once the port was transferred away: the
 * counters travel with it).
 *
 * Ownership: `out` is caller memory, written on `WM_OK`. Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_port_get_metrics(const wm_port *port, wm_port_metrics *out);

/**
 * Reads the port's state flags into `*out`.
 *
 * Ownership: `out` is caller memory, written on `WM_OK`. Thread safety: any thread (the answer
 * can be stale as soon as another thread acts on the port).
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_port_get_state(const wm_port *port, wm_port_state *out);

/**
 * Returns a static, NUL-terminated name for a status code: `"WM_OK"`, `"WM_ERR_NULL_ARG"`...;
 * `"WM_ERR_UNKNOWN"` for a number that is not a status.
 *
 * Ownership: the string is static; never free it. Thread safety: any thread. Never fails.
 */
const char *wm_status_str(int32_t status);

/**
 * Returns the message of the most recent failing `wm_*` call on the calling thread (for example
 * `"wm_port_post_json: SyntaxError: expected value at line 1 column 1"`), or `""` if none failed yet.
 * Successful calls leave it unchanged, like `errno`.
 *
 * Ownership: the string belongs to the library; it stays valid until the next failing `wm_*`
 * call on the same thread. Copy it if you need it longer; never free it.
 * Thread safety: the message is per thread. Never fails.
 */
const char *wm_last_error(void);

/**
 * Writes to `*out` whether `a` and `b` are the same value: SameValue for primitives, identity
 * for objects (two handles to one shared object are the same).
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_same(const wm_value *a, const wm_value *b, bool *out);

/**
 * Writes `value` as JSON text to a new string `*out`, with the strict mapping and the output
 * budget described at `wm_message_to_json`. Ownership: `*out` for `wm_string_free` (NULL on
 * failure).
 * Returns `WM_OK`, `WM_ERR_DATA_CLONE` (no JSON form, or past the budget), `WM_ERR_NULL_ARG`,
 * `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_to_json(const wm_value *value, char **out);

/**
 * Releases a value handle. Objects stay alive for the other handles and containers that refer
 * to them. Ownership: consumes the handle. Accepts NULL (returns `WM_OK`).
 * Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_INVALID_HANDLE` (already freed or never issued), `WM_ERR_PANIC`.
 */
wm_status wm_value_free(wm_value *value);

/**
 * Creates `undefined`. Ownership: `*out` is a new value owned by the caller (`wm_value_free`).
 * All `wm_value_new_*` functions set `*out` to NULL on failure and are thread-safe.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
 */
wm_status wm_value_new_undefined(wm_value **out);

/**
 * Creates `null`. Ownership and statuses: as `wm_value_new_undefined`.
 */
wm_status wm_value_new_null(wm_value **out);

/**
 * Creates a boolean. Ownership and statuses: as `wm_value_new_undefined`.
 */
wm_status wm_value_new_bool(bool b, wm_value **out);

/**
 * Creates a Number (any double: -0, NaN and infinities survive a post).
 * Ownership and statuses: as `wm_value_new_undefined`.
 */
wm_status wm_value_new_number(double n, wm_value **out);

/**
 * Creates a BigInt from decimal text (`"-123456789012345678901234567890"`; an optional sign,
 * then digits). Ownership: as `wm_value_new_undefined`; `decimal` is borrowed.
 * Returns `WM_OK`, `WM_ERR_SYNTAX` (not a decimal integer), `WM_ERR_INVALID_ARG` (not UTF-8),
 * `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
 */
wm_status wm_value_new_bigint(const char *decimal, wm_value **out);

/**
 * Creates a BigInt from a sign and a little-endian magnitude of `len` bytes (the wire form;
 * `magnitude` may be NULL when `len` is 0, which is zero). Ownership: as
 * `wm_value_new_undefined`; `magnitude` is borrowed.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
 */
wm_status wm_value_new_bigint_bytes(bool negative,
                                    const uint8_t *magnitude,
                                    size_t len,
                                    wm_value **out);

/**
 * Creates a string from `len` bytes of UTF-8 (NUL bytes allowed; not NUL-terminated; `s` may
 * be NULL when `len` is 0). Ownership: as `wm_value_new_undefined`; `s` is borrowed.
 * Returns `WM_OK`, `WM_ERR_INVALID_ARG` (invalid UTF-8), `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
 */
wm_status wm_value_new_string(const char *s, size_t len, wm_value **out);

/**
 * Creates a string from `len` UTF-16 code units (any, lone surrogates included; `units` may be
 * NULL when `len` is 0). Ownership: as `wm_value_new_undefined`; `units` is borrowed.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
 */
wm_status wm_value_new_string_utf16(const uint16_t *units, size_t len, wm_value **out);

/**
 * Creates an empty plain object (`{}`). Ownership and statuses: as `wm_value_new_undefined`.
 */
wm_status wm_value_new_object(wm_value **out);

/**
 * Creates an empty array (`[]`). Ownership and statuses: as `wm_value_new_undefined`.
 */
wm_status wm_value_new_array(wm_value **out);

/**
 * Creates an empty Map. Ownership and statuses: as `wm_value_new_undefined`.
 */
wm_status wm_value_new_map(wm_value **out);

/**
 * Creates an empty Set. Ownership and statuses: as `wm_value_new_undefined`.
 */
wm_status wm_value_new_set(wm_value **out);

/**
 * Creates a Date from its time value in milliseconds since the epoch (NaN: an invalid Date).
 * Ownership and statuses: as `wm_value_new_undefined`.
 */
wm_status wm_value_new_date(double ms, wm_value **out);

/**
 * Creates a RegExp from its source and flag letters (`"gi"`; NUL-terminated UTF-8, borrowed).
 * The pattern is not compiled. Ownership: as `wm_value_new_undefined`.
 * Returns `WM_OK`, `WM_ERR_SYNTAX` (unknown or repeated flag), `WM_ERR_INVALID_ARG` (not
 * UTF-8), `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
 */
wm_status wm_value_new_regexp(const char *source, const char *flags, wm_value **out);

/**
 * Creates an Error. `name` is one of `Error`, `EvalError`, `RangeError`, `ReferenceError`,
 * `SyntaxError`, `TypeError`, `URIError` (any other name becomes `Error`, as in a structured
 * clone); `message` may be NULL (no message). Strings are borrowed NUL-terminated UTF-8.
 * Ownership: as `wm_value_new_undefined`.
 * Returns `WM_OK`, `WM_ERR_INVALID_ARG` (not UTF-8), `WM_ERR_NULL_ARG` (name), `WM_ERR_PANIC`.
 */
wm_status wm_value_new_error(const char *name, const char *message, wm_value **out);

/**
 * Creates an ArrayBuffer holding a copy of `len` bytes (`data` may be NULL when `len` is 0).
 * Ownership: as `wm_value_new_undefined`; `data` is borrowed.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
 */
wm_status wm_value_new_array_buffer(const uint8_t *data, size_t len, wm_value **out);

/**
 * Creates a typed array or DataView of `kind` over the ArrayBuffer `buffer`, starting at
 * `byte_offset` and `byte_length` bytes long. The view refers to the buffer (it is not
 * copied); several views of one buffer share it after a post, too.
 * Ownership: as `wm_value_new_undefined`; `buffer` stays the caller's.
 * Returns `WM_OK`, `WM_ERR_WRONG_TYPE` (`buffer` is not an ArrayBuffer), `WM_ERR_INVALID_STATE`
 * (`buffer` is detached), `WM_ERR_INVALID_ARG`
 * (unknown kind; range outside the buffer or not a multiple of the element size),
 * `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_new_view(int32_t kind,
                            const wm_value *buffer,
                            size_t byte_offset,
                            size_t byte_length,
                            wm_value **out);

/**
 * Creates a boxed primitive (`new Boolean(b)`, `new Number(n)`, `Object(bigint)`,
 * `new String(s)`) from a bool, Number, BigInt or string value.
 * Ownership: as `wm_value_new_undefined`; `primitive` stays the caller's.
 * Returns `WM_OK`, `WM_ERR_WRONG_TYPE` (not one of those four), `WM_ERR_NULL_ARG`,
 * `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_new_boxed(const wm_value *primitive, wm_value **out);

/**
 * Creates a value that stands for `port` inside a message (like putting a MessagePort in
 * `postMessage`'s data). Posting it requires `port` in the transfer list too, else
 * `WM_ERR_DATA_CLONE` (ports are transferable, not serializable: R-CH-15).
 * Ownership: as `wm_value_new_undefined`; the port handle stays the caller's.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_new_port(const wm_port *port, wm_value **out);

/**
 * Parses JSON text (NUL-terminated UTF-8, borrowed) into a new value, mapped as
 * `wm_port_post_json_transfer` describes. Ownership: as `wm_value_new_undefined`.
 * Returns `WM_OK`, `WM_ERR_SYNTAX` (malformed JSON), `WM_ERR_INVALID_ARG` (not UTF-8),
 * `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
 */
wm_status wm_value_from_json(const char *text, wm_value **out);

/**
 * Appends `item` to the array `array` (`array.push(item)`). If `item` is an object it is
 * referenced, not copied: its graph is merged into the array's, so pushing one object twice
 * makes a shared reference and pushing an array into itself a cycle.
 * Ownership: both handles stay the caller's. Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_WRONG_TYPE` (not an array), `WM_ERR_NULL_ARG`,
 * `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_array_push(wm_value *array, const wm_value *item);

/**
 * Sets property `key` (NUL-terminated UTF-8, borrowed) of the plain object `object` to
 * `item` (replacing an existing one in place). Keys keep JavaScript's order: array-index keys
 * ascending first, then the others in insertion order. Objects are referenced as in
 * `wm_value_array_push`. Ownership: handles stay the caller's. Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_WRONG_TYPE` (not a plain object), `WM_ERR_INVALID_ARG` (key not
 * UTF-8), `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_object_set(wm_value *object, const char *key, const wm_value *item);

/**
 * Sets `key` to `item` in the Map `map` (`map.set(key, item)`): keys compare with SameValueZero
 * (primitives by value, objects by identity); an existing key keeps its position.
 * Ownership: handles stay the caller's. Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_WRONG_TYPE` (not a Map), `WM_ERR_NULL_ARG`,
 * `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_map_set(wm_value *map, const wm_value *key, const wm_value *item);

/**
 * Adds `item` to the Set `set` (`set.add(item)`; an existing member is not added again).
 * Ownership: handles stay the caller's. Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_WRONG_TYPE` (not a Set), `WM_ERR_NULL_ARG`,
 * `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_set_add(wm_value *set, const wm_value *item);

/**
 * Sets the `cause` of the Error `error` to `cause` (referenced as in `wm_value_array_push`).
 * Ownership: handles stay the caller's. Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_WRONG_TYPE` (not an Error), `WM_ERR_NULL_ARG`,
 * `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_error_set_cause(wm_value *error, const wm_value *cause);

/**
 * Writes to `*out` whether `a` and `b` are deeply equal, as JavaScript's
 * `util.isDeepStrictEqual` reads structured-clone values: the same types; primitives, Dates and
 * Number objects by SameValue (NaN equals NaN, -0 differs from 0); strings by code unit;
 * objects' own properties with equal values, in any order; arrays' length, present elements
 * (a hole differs from `undefined`) and extra properties; Map entries and Set members in
 * order; ArrayBuffers by their bytes; typed arrays and DataViews by their kind and the bytes
 * they see (not their offset in the buffer); Errors' name, message, stack and cause. Objects must correspond one to one: a shared object
 * or a cycle on one side must be shared or a cycle the same way on the other. Ports are equal
 * only to themselves. Unlike `wm_value_same` (identity), the two values may come from
 * different messages.
 *
 * Thread safety: any thread. Cost: linear in the size of both values.
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_equal(const wm_value *a,
                         const wm_value *b,
                         bool *out);

/**
 * Writes the type of `value` to `*out`. Thread safety: any thread (for all readers).
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_get_type(const wm_value *value, wm_value_type *out);

/**
 * Reads a boolean (or `new Boolean`) into `*out`.
 * Returns `WM_OK`, `WM_ERR_WRONG_TYPE`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_get_bool(const wm_value *value, bool *out);

/**
 * Reads a Number (or `new Number`) into `*out`.
 * Returns `WM_OK`, `WM_ERR_WRONG_TYPE`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_get_number(const wm_value *value, double *out);

/**
 * Reads a Date's time value (ms since the epoch; NaN for an invalid Date) into `*out`.
 * Returns `WM_OK`, `WM_ERR_WRONG_TYPE`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_get_date(const wm_value *value, double *out);

/**
 * Reads a BigInt (or boxed BigInt) as decimal text into `*out`.
 * Ownership: `*out` is a new string for `wm_string_free` (NULL on failure).
 * Returns `WM_OK`, `WM_ERR_WRONG_TYPE`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_get_bigint(const wm_value *value, char **out);

/**
 * Copies out a BigInt (or boxed BigInt) as sign and little-endian magnitude (the wire form):
 * `*negative` (may be NULL) gets the sign, `*len` the magnitude's length in bytes (0 for zero),
 * and when `buf` is not NULL and `cap >= *len`, `buf` the bytes.
 * Ownership: `buf` is caller memory. Returns `WM_OK`, `WM_ERR_INVALID_ARG` (`cap` too small),
 * `WM_ERR_WRONG_TYPE`, `WM_ERR_NULL_ARG` (`len`), `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_get_bigint_bytes(const wm_value *value,
                                    bool *negative,
                                    uint8_t *buf,
                                    size_t cap,
                                    size_t *len);

/**
 * Reads a string (or `new String`) as UTF-8 into a new NUL-terminated string `*out`, its byte
 * length (without the NUL; the text may contain NUL bytes) into `*len` (may be NULL). Lone
 * surrogates have no UTF-8 form and become U+FFFD here; read the exact code units with
 * `wm_value_get_string_utf16`.
 * Ownership: `*out` is a new string for `wm_string_free` (NULL on failure).
 * Returns `WM_OK`, `WM_ERR_WRONG_TYPE`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_get_string(const wm_value *value, char **out, size_t *len);

/**
 * Copies out a string's UTF-16 code units (exact, lone surrogates included): writes the length
 * in code units to `*len`, and when `buf` is not NULL and `cap >= *len`, the units to `buf`.
 * Call it first with `buf` NULL to learn the length.
 * Ownership: `buf` is caller memory. Returns `WM_OK`, `WM_ERR_INVALID_ARG` (`buf` given but
 * `cap` too small; `*len` still set), `WM_ERR_WRONG_TYPE`, `WM_ERR_NULL_ARG` (`len`),
 * `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_get_string_utf16(const wm_value *value, uint16_t *buf, size_t cap, size_t *len);

/**
 * Copies out the bytes of an ArrayBuffer, or the bytes a typed array or DataView sees: writes
 * the byte length to `*len`, and when `buf` is not NULL and `cap >= *len`, the bytes to `buf`.
 * Ownership: `buf` is caller memory. Returns `WM_OK`, `WM_ERR_INVALID_ARG` (`cap` too small),
 * `WM_ERR_WRONG_TYPE`, `WM_ERR_NULL_ARG` (`len`), `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_get_bytes(const wm_value *value, uint8_t *buf, size_t cap, size_t *len);

/**
 * Describes a typed array or DataView: its kind, a new handle to its ArrayBuffer, and its byte
 * range. Any of the out pointers may be NULL to skip it.
 * Ownership: `*buffer` (if asked) is a new value handle for `wm_value_free`.
 * Returns `WM_OK`, `WM_ERR_WRONG_TYPE`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_get_view(const wm_value *value,
                            wm_view_kind *kind,
                            wm_value **buffer,
                            size_t *byte_offset,
                            size_t *byte_length);

/**
 * Reads a RegExp's source and flag letters into two new strings (either out pointer may be
 * NULL). Ownership: each string is for `wm_string_free`.
 * Returns `WM_OK`, `WM_ERR_WRONG_TYPE`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_get_regexp(const wm_value *value, char **source, char **flags);

/**
 * Reads an Error's name (`"TypeError"`...) and message (NULL when it has none) into new
 * strings, and a new handle to its `cause` (undefined when none) — each out pointer may be NULL.
 * Ownership: strings for `wm_string_free`, `*cause` for `wm_value_free`.
 * Returns `WM_OK`, `WM_ERR_WRONG_TYPE`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_get_error(const wm_value *value, char **name, char **message, wm_value **cause);

/**
 * Writes a length to `*out`: an array's `length`, a plain object's number of properties, a
 * Map's or Set's size, a string's length in UTF-16 code units, an ArrayBuffer's byte length.
 * Returns `WM_OK`, `WM_ERR_WRONG_TYPE` (other types), `WM_ERR_NULL_ARG`,
 * `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_length(const wm_value *value, size_t *out);

/**
 * Writes a new handle to element `index` of the array `array` to `*out` (undefined for a hole).
 * Ownership: `*out` is for `wm_value_free` (NULL on failure). It refers to the same object as
 * the element, not a copy.
 * Returns `WM_OK`, `WM_ERR_INVALID_ARG` (index >= length), `WM_ERR_WRONG_TYPE`,
 * `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_array_get(const wm_value *array, size_t index, wm_value **out);

/**
 * Reads property number `index` (in order) of the plain object `object`: a new key string
 * (`*key`, for `wm_string_free`; lone surrogates become U+FFFD) and a new value handle (`*item`,
 * for `wm_value_free`). Either out pointer may be NULL.
 * Returns `WM_OK`, `WM_ERR_INVALID_ARG` (index out of range), `WM_ERR_WRONG_TYPE`,
 * `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_object_entry(const wm_value *object, size_t index, char **key, wm_value **item);

/**
 * Writes a new handle to property `key` (NUL-terminated UTF-8) of the plain object `object`.
 * Ownership: `*out` for `wm_value_free` (NULL on failure).
 * Returns `WM_OK`, `WM_ERR_NOT_FOUND` (no such property), `WM_ERR_WRONG_TYPE`,
 * `WM_ERR_INVALID_ARG` (key not UTF-8), `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_object_get(const wm_value *object, const char *key, wm_value **out);

/**
 * Reads entry number `index` (in insertion order) of the Map `map` as two new handles, either
 * out pointer may be NULL. Ownership: handles for `wm_value_free`.
 * Returns `WM_OK`, `WM_ERR_INVALID_ARG` (index out of range), `WM_ERR_WRONG_TYPE`,
 * `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_map_entry(const wm_value *map, size_t index, wm_value **key, wm_value **item);

/**
 * Writes a new handle to member number `index` (in insertion order) of the Set `set`.
 * Ownership: `*out` for `wm_value_free`.
 * Returns `WM_OK`, `WM_ERR_INVALID_ARG` (index out of range), `WM_ERR_WRONG_TYPE`,
 * `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_set_get(const wm_value *set, size_t index, wm_value **out);

/**
 * Writes a new port handle for a MessagePort value (one received inside a message's data) to
 * `*out`. It is the same port as the message's transferred port (`wm_message_take_port`).
 * Ownership: `*out` for `wm_port_free`.
 * Returns `WM_OK`, `WM_ERR_WRONG_TYPE`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_value_get_port(const wm_value *value, wm_port **out);

/**
 * Creates a window whose document has the origin of the URL `origin` (NUL-terminated UTF-8,
 * parsed by the WHATWG URL rules: `"https://app.test/page"` gives `https://app.test`), or a new
 * opaque origin when `origin` is NULL.
 *
 * Ownership: on `WM_OK`, `*out` is a new handle owned by the caller (`wm_window_free`).
 * Thread safety: any thread; windows may be used from any thread.
 * Returns `WM_OK`, `WM_ERR_SYNTAX` (not a URL), `WM_ERR_INVALID_ARG` (not UTF-8),
 * `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
 */
wm_status wm_window_new(const char *origin, wm_window **out);

/**
 * Writes the window's current origin, serialized (`"https://app.test"`, `"null"` if opaque), to
 * a new string `*out` (for `wm_string_free`).
 * Thread safety: any thread. Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`,
 * `WM_ERR_PANIC`.
 */
wm_status wm_window_get_origin(const wm_window *window, char **out);

/**
 * Navigates the window to a document of the URL `origin`'s origin (NULL: a new opaque
 * origin). Messages already queued are checked against the new origin when they are delivered
 * (R-WIN-8). Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_SYNTAX`, `WM_ERR_INVALID_ARG`, `WM_ERR_NULL_ARG`,
 * `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_window_navigate(wm_window *window, const char *origin);

/**
 * `target.postMessage(value, targetOrigin, transfer)` sent by the window `source` (the caller's
 * own window: the event carries its origin and a reference to it).
 *
 * In the standard's order: `target_origin` (NUL-terminated UTF-8) is resolved — `"*"` means no
 * check, `"/"` the source's origin, anything else must parse as a URL (`WM_ERR_SYNTAX`, nothing
 * else happens); then the value is serialized with the transfer list (`WM_ERR_DATA_CLONE`) and
 * the ports are detached; the message is queued. The origin check runs at delivery against
 * the target's origin at that time: a mismatch drops the message silently (R-WIN-8, R-WIN-9).
 * A NULL `value` posts `undefined`.
 *
 * Ownership: everything is borrowed; transferred port handles stay valid but detached.
 * Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_SYNTAX`, `WM_ERR_DATA_CLONE`, `WM_ERR_INVALID_ARG` (not UTF-8),
 * `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_window_post(wm_window *target,
                         const wm_value *value,
                         const char *target_origin,
                         wm_port *const *transfer,
                         size_t n,
                         const wm_window *source);

/**
 * Like `wm_window_post` with the value given as JSON text (see `wm_port_post_json_transfer`
 * for the mapping) and no transfer list.
 * Returns `WM_OK`, `WM_ERR_SYNTAX` (bad target origin or malformed JSON),
 * `WM_ERR_INVALID_ARG` (not UTF-8), `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_window_post_json(wm_window *target,
                              const char *json_text,
                              const char *target_origin,
                              const wm_window *source);

/**
 * Takes the next message delivered to the window without waiting (messages failing the origin
 * check are dropped on the way).
 * Ownership: on `WM_OK`, `*out` is a new message (`wm_message_free`); else NULL.
 * Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_EMPTY`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_window_try_recv(wm_window *window, wm_message **out);

/**
 * Takes the next message delivered to the window, waiting up to `timeout_ms` (< 0: forever).
 * Ownership: as `wm_window_try_recv`. Thread safety: any thread.
 * Returns `WM_OK`, `WM_ERR_TIMEOUT`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_window_recv(wm_window *window, int64_t timeout_ms, wm_message **out);

/**
 * Attaches a window to the loop: `onmessage` runs in `wm_loop_dispatch` for each message
 * delivered to it. Rules as `wm_loop_attach` (userdata, finalizer, replacement, threads).
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_window_attach(wm_loop *l,
                           wm_window *window,
                           wm_window_message_cb onmessage,
                           void *userdata,
                           wm_finalizer finalizer);

/**
 * Detaches a window from the loop (rules as `wm_loop_detach`).
 * Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_window_detach(wm_loop *l, wm_window *window);

/**
 * Releases a window handle (and its loop registration). The window goes away when its last
 * handle does; messages still queued for it are dropped, closing the ports they carry.
 * Accepts NULL. Thread safety: any thread, including inside its own callback.
 * Returns `WM_OK`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
 */
wm_status wm_window_free(wm_window *window);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* WEBMESSAGING_H */
