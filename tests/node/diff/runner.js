'use strict';
// Runs one differential scenario against one implementation and prints its event trace as JSON
// when the process exits (exit timing is part of the behaviour under test).
//   node runner.js builtin|ours <scenario.js>
const path = require('path');
const util = require('util');

const which = process.argv[2];
const api = which === 'builtin'
  ? { ...require('worker_threads'), MessageEvent: globalThis.MessageEvent }
  : require(path.join(__dirname, '..', '..', '..', 'bindings', 'node'));

const trace = [];
// Ports print differently in each implementation; replace them (at any depth) by '<port>'.
function portless(v, seen = new Map()) {
  if (v instanceof api.MessagePort) return '<port>';
  if (v === null || typeof v !== 'object' || Object.getPrototypeOf(v) !== Object.prototype) return v;
  if (seen.has(v)) return seen.get(v);
  const out = {};
  seen.set(v, out);
  for (const k of Object.keys(v)) out[k] = portless(v[k], seen);
  return out;
}
function describe(v) {
  v = portless(v);
  if (v === '<port>') return v;
  if (typeof v === 'function') return '<function>';
  if (v instanceof Error || (typeof DOMException === 'function' && v instanceof DOMException)) {
    return `<${v.constructor.name} ${v.name}: ${v.message}>`;
  }
  return util.inspect(v, { depth: 6, sorted: true, breakLength: Infinity });
}
function log(...parts) {
  trace.push(parts.map((p) => (typeof p === 'string' ? p : describe(p))).join(' '));
}
process.on('uncaughtException', (err) => log('uncaught', err));
process.on('exit', (code) => {
  log('exit', String(code));
  process.stdout.write(JSON.stringify(trace) + '\n');
});
require(path.resolve(process.argv[3]))(api, log);
