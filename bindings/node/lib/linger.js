'use strict';
// setLinger: how long a thread whose messages have all been delivered keeps watching its event
// loop for the next one before the loop sleeps (src/linger.rs). A reply that comes within that
// window skips the sleep and the kernel wake-up, most of a round trip between threads.

const { inspect } = require('util');
const { native } = require('./shared.js');
const { codeError } = require('./errors.js');

// The largest window accepted, in microseconds (src/linger.rs's MAX_US).
const MAX_MICROSECONDS = 1000;

/**
 * Sets the lingering window, in microseconds, for every thread of the process (0 turns it
 * off), and returns the previous one. A thread only lingers while its event loop has nothing
 * else to do, stops at the first event of any kind, and stops lingering after three windows in
 * a row that caught nothing until messages come close together again.
 */
function setLinger(microseconds) {
  if (typeof microseconds !== 'number') {
    throw codeError('ERR_INVALID_ARG_TYPE',
      `The "microseconds" argument must be of type number. Received ${describe(microseconds)}`);
  }
  if (!Number.isInteger(microseconds) || microseconds < 0 || microseconds > MAX_MICROSECONDS) {
    throw codeError('ERR_OUT_OF_RANGE',
      `The value of "microseconds" is out of range. It must be an integer >= 0 && <= ${MAX_MICROSECONDS}. Received ${microseconds}`,
      RangeError);
  }
  return native.setLinger(microseconds);
}

// What was received, in the words of Node's own ERR_INVALID_ARG_TYPE messages.
function describe(value) {
  if (value == null) return String(value);
  if (typeof value === 'function') return `function ${value.name}`;
  if (typeof value === 'object') {
    const name = value.constructor && value.constructor.name;
    return name ? `an instance of ${name}` : inspect(value, { depth: -1 });
  }
  return `type ${typeof value} (${inspect(value)})`;
}

module.exports = { setLinger };
