'use strict';
// Fast paths of the wire format for the commonest messages: a top-level primitive (undefined,
// null, a boolean, a number, a string of up to FAST_STRING code units) with nothing
// transferred. They write exactly the bytes `new v8.Serializer()` writes for the same value
// (tests/node/codec.test.js checks that against V8 on many values) and read exactly what V8
// reads; anything else goes through V8's own serializer. Allocating a Serializer/Deserializer
// (C++ objects, GC-tracked) per message costs more than the whole post, hence these paths.

const FAST_STRING = 4096;
const NOT_FAST = Symbol('not fast');
// One scratch buffer per thread (module instances are per thread): a post copies out of it.
const scratch = Buffer.allocUnsafeSlow(8 + 5 + 2 * FAST_STRING);
scratch[0] = 0xff;
scratch[1] = 0x0f;

function varintLength(n) {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function writeVarint(buf, off, n) {
  while (n >= 0x80) {
    buf[off++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[off++] = n;
  return off;
}

// Writes the value into `scratch` and returns the byte length, or -1 for "use V8".
function encodeFast(value) {
  switch (typeof value) {
    case 'undefined':
      scratch[2] = 0x5f;
      return 3;
    case 'boolean':
      scratch[2] = value ? 0x54 : 0x46;
      return 3;
    case 'number':
      if ((value | 0) === value && !(value === 0 && 1 / value < 0)) {
        scratch[2] = 0x49; // 'I': a Smi, zigzag varint
        return writeVarint(scratch, 3, ((value << 1) ^ (value >> 31)) >>> 0);
      }
      scratch[2] = 0x4e; // 'N'
      scratch.writeDoubleLE(value, 3);
      return 11;
    case 'string': {
      const n = value.length;
      if (n > FAST_STRING) return -1;
      let oneByte = true;
      for (let i = 0; i < n; i++) {
        if (value.charCodeAt(i) > 0xff) {
          oneByte = false;
          break;
        }
      }
      if (oneByte) {
        scratch[2] = 0x22; // '"'
        const off = writeVarint(scratch, 3, n);
        return off + scratch.latin1Write(value, off);
      }
      // 'c': V8 pads with one 0x00 so the UTF-16 payload starts at an even offset.
      const byteLen = 2 * n;
      let off = 2;
      if ((off + 1 + varintLength(byteLen)) % 2 === 1) scratch[off++] = 0x00;
      scratch[off++] = 0x63;
      off = writeVarint(scratch, off, byteLen);
      return off + scratch.ucs2Write(value, off);
    }
    default:
      if (value === null) {
        scratch[2] = 0x30;
        return 3;
      }
      return -1;
  }
}

// Reads a top-level primitive from buf[start, end), or returns NOT_FAST.
function decodeFast(buf, start, end) {
  if (end - start < 3 || buf[start] !== 0xff || buf[start + 1] !== 0x0f) return NOT_FAST;
  let p = start + 2;
  while (p < end && buf[p] === 0x00) p++; // padding before a tag
  const tag = buf[p++];
  switch (tag) {
    case 0x5f: return p === end ? undefined : NOT_FAST;
    case 0x30: return p === end ? null : NOT_FAST;
    case 0x54: return p === end ? true : NOT_FAST;
    case 0x46: return p === end ? false : NOT_FAST;
    case 0x49: { // 'I': zigzag varint, at most 5 bytes
      const n = end - p;
      if (n < 1 || n > 5 || buf[end - 1] & 0x80) return NOT_FAST;
      let z = 0;
      for (let k = 0; k < n - 1; k++) {
        if (!(buf[p + k] & 0x80)) return NOT_FAST;
        z |= (buf[p + k] & 0x7f) << (7 * k);
      }
      if (n === 5 && buf[p + 4] > 0x0f) return NOT_FAST;
      z = (z | (buf[end - 1] << (7 * (n - 1)))) >>> 0;
      return (z >>> 1) ^ -(z & 1);
    }
    case 0x4e: // 'N'
      return p + 8 === end ? buf.readDoubleLE(p) : NOT_FAST;
    case 0x22: // '"'
    case 0x63: { // 'c'
      let len = 0;
      let shift = 0;
      let b;
      do {
        if (p >= end || shift > 28) return NOT_FAST;
        b = buf[p++];
        len += (b & 0x7f) * 2 ** shift;
        shift += 7;
      } while (b & 0x80);
      if (p + len !== end) return NOT_FAST;
      if (tag === 0x22) return buf.latin1Slice(p, end);
      return len % 2 === 0 ? buf.ucs2Slice(p, end) : NOT_FAST;
    }
    default:
      return NOT_FAST;
  }
}

module.exports = { encodeFast, decodeFast, scratch, NOT_FAST, FAST_STRING };
