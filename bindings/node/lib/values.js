'use strict';
// Values: the JS codec first (codec.js writes and reads V8's exact bytes without a Serializer
// per message), V8's own serializer for the rest, with our ports as host objects (`\` + index
// into the transfer table; see port.js's allocPort for how a port becomes one).

const v8 = require('v8');
const wt = require('worker_threads');
const { takeEncoded, decode: decodeJs, NOT_FAST } = require('../codec.js');
const { native, late } = require('./shared.js');
const { domException, cloneError, nativeError } = require('./errors.js');

function serializeChecked(value, ports, buffers) {
  try {
    return serialize(value, ports, buffers);
  } catch (err) {
    throw cloneError(err);
  }
}

class PortSerializer extends v8.Serializer {
  constructor(ports) {
    super();
    this.ports = ports;
  }
  _writeHostObject(object) {
    const i = this.ports === undefined ? -1 : this.ports.indexOf(object);
    if (i < 0) {
      if (object instanceof late.MessagePort || object instanceof wt.MessagePort) {
        throw new TypeError(
          'Object that needs transfer was found in message but not listed in transferList');
      }
      throw domException('Cannot transfer object of unsupported type.', 'DataCloneError');
    }
    this.writeUint32(i);
  }
  _getDataCloneError(message) {
    return domException(message, 'DataCloneError');
  }
}

class PortDeserializer extends v8.Deserializer {
  constructor(buffer, ports) {
    super(buffer);
    this.ports = ports;
  }
  _readHostObject() {
    const i = this.readUint32();
    if (this.ports === null || i >= this.ports.length) {
      throw new Error(`DecodeError: host object index ${i} has no transferred port`);
    }
    return this.ports[i];
  }
}

function serialize(value, ports, buffers) {
  const bytes = takeEncoded(value, ports, buffers);
  if (bytes !== null) return bytes; // a view of the codec's buffer: post it before encoding again
  const s = new PortSerializer(ports);
  s.writeHeader();
  if (buffers !== undefined) {
    for (let i = 0; i < buffers.length; i++) s.transferArrayBuffer(i, buffers[i]);
  }
  s.writeValue(value);
  const written = s.releaseBuffer();
  // V8 knows nothing of the reader's limits: check what it wrote, as the JS codec checks as it
  // writes, so an oversized value fails here and not at the receiver.
  try {
    native.validateForeign(written, ports === undefined ? 0 : ports.length,
      buffers === undefined ? [] : buffers.map((b) => b.byteLength));
  } catch (err) {
    throw nativeError(err);
  }
  return written;
}

function deserialize(bytes, ports, buffers) {
  const v = decodeJs(bytes, 0, bytes.length, ports, buffers);
  if (v !== NOT_FAST) return v;
  const d = new PortDeserializer(bytes, ports);
  d.readHeader();
  if (buffers !== null) {
    for (let i = 0; i < buffers.length; i++) d.transferArrayBuffer(i, buffers[i]);
  }
  return d.readValue();
}

Object.assign(module.exports, { serialize, deserialize, serializeChecked });
