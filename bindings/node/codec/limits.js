'use strict';
// What the core's reader (core/src/clone/decode/mod.rs, `Limits::default()`) accepts: a message
// over these fails there as a DecodeError, so the encoder refuses it at the sender with a
// DataCloneError instead.

module.exports = {
  /** Most objects (ids) one message may hold. */
  MAX_OBJECTS: 1 << 22,
  /** Most string code units one message may hold, keys included. */
  MAX_STRING_UNITS: 1 << 28,
  /** Most ArrayBuffer bytes one message may hold (copied or transferred). */
  MAX_BYTES: 2 ** 30,
  /** Largest BigInt magnitude, in bytes. */
  MAX_BIGINT_BYTES: 1 << 20,
};
