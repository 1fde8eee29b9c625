'use strict';
// The JS codec of the wire format: an encoder (codec/encode.js) and a decoder (codec/decode.js)
// that write exactly the bytes `new v8.Serializer()` writes and read exactly what V8 reads for
// the common values (primitives, plain objects, arrays, Date, Map, Set, wrappers, ArrayBuffers
// and views, shared references and cycles, transferred ports and buffers), with no V8
// Serializer/Deserializer object per message. index.js falls back to V8 for everything else.

const { encode, output, scratch, SCRATCH_SIZE } = require('./codec/encode.js');
const { decode, NOT_FAST } = require('./codec/decode.js');

// When encodeFast could not leave the bytes in the scratch buffer, it keeps its result for the
// `takeEncoded` that follows in the same post (so the value is walked, and its getters run,
// once). The memo lives until the end of the current job at most.
const NONE = Symbol('none');
let memoValue = NONE;
let memoBytes = null; // a Buffer, or null for "V8 must write it"
let memoQueued = false;

function clearMemo() {
  memoValue = NONE;
  memoBytes = null;
  memoQueued = false;
}

/**
 * Encodes `value` (nothing transferred) into `scratch`: returns the byte length, or -1 when the
 * bytes are not there (too large, or V8 must write them); `takeEncoded` then gives them.
 */
function encodeFast(value) {
  // A Smi (int32, not -0) at the top: `I` + zigzag varint, as writeNumber writes it, without
  // the encoder's set-up and reset.
  if (typeof value === 'number' && (value | 0) === value && (value !== 0 || 1 / value > 0)) {
    memoValue = NONE;
    let z = ((value << 1) ^ (value >> 31)) >>> 0;
    let p = 3;
    scratch[2] = 0x49;
    while (z >= 0x80) {
      scratch[p++] = (z & 0x7f) | 0x80;
      z >>>= 7;
    }
    scratch[p++] = z;
    return p;
  }
  if (memoValue === value) return -1;
  memoValue = NONE;
  const n = encode(value, undefined, undefined);
  if (n >= 0 && output() === scratch) return n;
  memoValue = value;
  memoBytes = n < 0 ? null : output().subarray(0, n);
  if (!memoQueued) {
    memoQueued = true;
    queueMicrotask(clearMemo);
  }
  return -1;
}

/**
 * The bytes of `value` with `ports` as host objects and `buffers` transferred: a Buffer (valid
 * until the next encode), or null when V8's serializer must write them.
 */
function takeEncoded(value, ports, buffers) {
  if (memoValue === value && ports === undefined && buffers === undefined) {
    const bytes = memoBytes;
    memoValue = NONE;
    memoBytes = null;
    return bytes;
  }
  memoValue = NONE;
  memoBytes = null;
  const n = encode(value, ports, buffers);
  return n < 0 ? null : output().subarray(0, n);
}

/** Reads the message in buf[start, end) (nothing transferred), or returns NOT_FAST. */
function decodeFast(buf, start, end) {
  return decode(buf, start, end, null, null);
}

module.exports = {
  encode, output, decode, encodeFast, decodeFast, takeEncoded, scratch, NOT_FAST, SCRATCH_SIZE,
};
