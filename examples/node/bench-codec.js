'use strict';
// bench-codec: the JS codec alone (bindings/node/codec.js) beside V8's own serializer, for the
// payloads of bench-node's value rows, encode and decode measured separately; and, for scale,
// Node's built-in MessageChannel's whole post + receive of the same value on one thread.
// Every row runs ours and V8 alternately, RUNS times; the medians and their ratio are printed.
// Rates are per CPU second of this process.
// Environment: BENCH_RUNS (default 5), BENCH_N (operations per run, default 200,000),
// BENCH_PKG (the package directory to measure; default bindings/node).
const path = require('path');
const v8 = require('v8');
const { MessageChannel } = require('worker_threads');
const PKG = path.resolve(process.env.BENCH_PKG || path.join(__dirname, '..', '..', 'bindings', 'node'));
const codec = require(path.join(PKG, 'codec.js'));

const RUNS = Number(process.env.BENCH_RUNS || 5);
const N = Number(process.env.BENCH_N || 200000);

const { small, nested, median } = require('./bench-payloads');
const PAYLOADS = { '{id, name, tags}': small, 'nested record': nested };

// CPU seconds of this process rather than wall time: the machine may be shared, and a loop
// that never waits is measured better by the CPU it got.
const now = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
let sink = 0;

// ops/s of `fn(i)` over N calls (values made outside the timed loop).
function rate(fn, values) {
  const t0 = now();
  for (let i = 0; i < N; i++) sink ^= fn(values[i & 1023], i) ? 1 : 0;
  return N / (now() - t0);
}

function builtinPostReceive(make) {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    const count = Math.min(N, 50000);
    let n = 0;
    const t0 = now();
    port2.on('message', () => {
      if (++n === count) {
        port1.close();
        resolve(count / (now() - t0));
      }
    });
    for (let i = 0; i < count; i++) port1.postMessage(make(i));
  });
}

async function main() {
  const rows = [];
  const fmt = (x) => Math.round(x).toLocaleString('en-US');
  for (const [name, make] of Object.entries(PAYLOADS)) {
    const values = Array.from({ length: 1024 }, (_, i) => make(i));
    const encoded = values.map((v) => v8.serialize(v));
    const enc = { ours: [], v8: [] };
    const dec = { ours: [], v8: [] };
    const post = [];
    const encOurs = (v) => codec.encode(v, undefined, undefined);
    const encV8 = (v) => v8.serialize(v).length;
    const decOurs = (_, i) => codec.decode(encoded[i & 1023], 0, encoded[i & 1023].length, null, null);
    const decV8 = (_, i) => v8.deserialize(encoded[i & 1023]);
    for (let r = 0; r < RUNS; r++) {
      const order = r % 2 ? ['v8', 'ours'] : ['ours', 'v8'];
      for (const k of order) enc[k].push(rate(k === 'ours' ? encOurs : encV8, values));
      for (const k of order) dec[k].push(rate(k === 'ours' ? decOurs : decV8, values));
      post.push(await builtinPostReceive(make));
    }
    const p = median(post);
    for (const [what, m] of [['encode', enc], ['decode', dec]]) {
      const o = median(m.ours);
      const b = median(m.v8);
      rows.push([`${what} ${name}`, fmt(o), fmt(b), `${(o / b).toFixed(2)}x`, `${(o / p).toFixed(1)}x`]);
      console.error(rows[rows.length - 1].join(' | '));
    }
    rows.push([`built-in post+receive ${name}`, '', fmt(p), '', '']);
  }
  const head = [`codec (node ${process.version}, median of ${RUNS}, ops/s)`, 'ours', 'v8.serialize / v8.deserialize',
                'ours / v8', 'ours / built-in post+receive'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => '| ' + r.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log(line(head));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows) console.log(line(r));
  if (sink === 2) console.log('');
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
