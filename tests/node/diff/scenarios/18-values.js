'use strict';
module.exports = ({ MessageChannel, MessagePort, MessageEvent, receiveMessageOnPort }, log) => {
const { port1, port2 } = new MessageChannel();
const cyc = { name: 'cyc' }; cyc.self = cyc;
const shared = { s: 1 };
const values = [
  undefined, null, true, false, 0, -0, NaN, Infinity, 2 ** 31, -1.5, 12345678901234567890n, '',
  'héllo', '😀\uD800', [1, , 3], Object.assign([1, 2], { extra: 'x' }), { a: { b: { c: [1] } } },
  new Map([[1, 'a'], ['b', { c: 2 }]]), new Set([1, 'two', 3n]), new Date(0), /ab+c/gi,
  new Error('boom'), new RangeError('range'), new Uint8Array([1, 2]), new Float64Array([1.5]),
  new DataView(new ArrayBuffer(2)), Object(1), Object('s'), Object(false), cyc, [shared, shared],
  new Int32Array([-1]), new BigInt64Array([5n]), new ArrayBuffer(3),
];
let n = 0;
port2.on('message', (v) => {
  if (v instanceof Error) log(n, 'error', v.name, v.message, String(v.constructor.name));
  else if (v === cyc || (v && v.self)) log(n, 'cycle ok', String(v.self === v));
  else if (Array.isArray(v) && v.length === 2 && v[0] && v[0].s === 1) log(n, 'shared ref', String(v[0] === v[1]));
  else log(n, v);
  if (++n === values.length) port2.close();
});
for (const v of values) port1.postMessage(v);
};
