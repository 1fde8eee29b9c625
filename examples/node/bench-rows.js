'use strict';
// The rows lifetime and buffer handling touch, ours beside Node's built-in MessageChannel in one
// process, interleaved run by run; medians of RUNS runs (default 5). Ratios > 1 mean ours is
// better. Usage: node examples/node/bench-rows.js [path/to/package]
//   rows: channel creation (new + close both), main <-> worker round trip p50/p99 with a small
//   object, same-thread 1 MiB Uint8Array copied, and 1 MiB ArrayBuffer transferred.
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const builtin = require('node:worker_threads');
const { performance } = require('node:perf_hooks');

const PKG = path.resolve(process.argv[2] || path.join(__dirname, '..', '..', 'bindings', 'node'));
const ours = require(PKG);
const RUNS = Number(process.env.RUNS || 5);
const api = (kind) => (kind === 'ours' ? ours : builtin);
const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
const once = (p) => new Promise((r) => p.once('message', r));
const small = (i) => ({ id: i, name: `user${i & 255}`, tags: [1, 2, 3] });

function create(kind, n = 20000) {
  const { MessageChannel } = api(kind);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const { port1, port2 } = new MessageChannel();
    port1.close();
    port2.close();
  }
  return n / ((performance.now() - t0) / 1e3);
}

async function roundTrip(kind, n = 3000) {
  const { port1, port2 } = new (api(kind).MessageChannel)();
  const workerData = { kind, pkg: PKG };
  const src = `
    const { workerData } = require('node:worker_threads');
    const port = workerData.kind === 'ours'
      ? require(workerData.pkg).importPort(workerData.token) : workerData.port;
    port.on('message', (m) => { if (m === 'bye') port.close(); else port.postMessage(m); });`;
  let w;
  if (kind === 'ours') {
    workerData.token = ours.exportPort(port2);
    w = new Worker(src, { eval: true, workerData });
  } else {
    workerData.port = port2;
    w = new Worker(src, { eval: true, workerData, transferList: [port2] });
  }
  const lat = [];
  for (let i = 0; i < n + 300; i++) {
    const t = performance.now();
    port1.postMessage(small(i));
    await once(port1);
    if (i >= 300) lat.push((performance.now() - t) * 1e3);
  }
  port1.postMessage('bye');
  port1.close();
  await new Promise((r) => w.once('exit', r));
  lat.sort((a, b) => a - b);
  return [lat[lat.length >> 1], lat[Math.floor(lat.length * 0.99)]];
}

async function big(kind, transfer, n = 300) {
  const { port1, port2 } = new (api(kind).MessageChannel)();
  let got = 0;
  const t0 = performance.now();
  await new Promise((resolve) => {
    port2.on('message', (m) => { if (m.byteLength !== 1 << 20) throw new Error('bad size'); if (++got === n) resolve(); });
    for (let i = 0; i < n; i++) {
      if (transfer) {
        const ab = new ArrayBuffer(1 << 20);
        port1.postMessage(ab, [ab]);
      } else {
        port1.postMessage(new Uint8Array(1 << 20));
      }
    }
  });
  port1.close();
  return n / ((performance.now() - t0) / 1e3);
}

(async () => {
  const rows = [
    ['channel creation (new + close both)', 'ch/s', (k) => create(k), true],
    ['round trip small object p50', 'µs', async (k) => (await roundTrip(k))[0], false, 'rt'],
    ['round trip small object p99', 'µs', null, false, 'rt'],
    ['same thread 1 MiB Uint8Array copied', 'msg/s', (k) => big(k, false), true],
    ['same thread 1 MiB ArrayBuffer transferred', 'msg/s', (k) => big(k, true), true],
  ];
  const results = new Map();
  for (let r = 0; r < RUNS; r++) {
    for (const kind of r % 2 === 0 ? ['ours', 'builtin'] : ['builtin', 'ours']) {
      for (const [name, , fn, , group] of rows) {
        if (fn === null) continue;
        if (group === 'rt') {
          const [p50, p99] = await roundTrip(kind);
          push(results, 'round trip small object p50', kind, p50);
          push(results, 'round trip small object p99', kind, p99);
        } else {
          push(results, name, kind, await fn(kind));
        }
      }
    }
  }
  console.log(`| workload | unit | ours | built-in | ratio (>1 = ours better) |\n|---|---|---:|---:|---:|`);
  for (const [name, unit, , higher] of rows) {
    const a = median(results.get(name).ours);
    const b = median(results.get(name).builtin);
    const ratio = higher ? a / b : b / a;
    console.log(`| ${name} | ${unit} | ${a.toFixed(unit === 'µs' ? 1 : 0)} | ${b.toFixed(unit === 'µs' ? 1 : 0)} | ${ratio.toFixed(2)} |`);
  }
  console.log(`(medians of ${RUNS} interleaved runs)`);
})();

function push(map, name, kind, v) {
  if (!map.has(name)) map.set(name, { ours: [], builtin: [] });
  map.get(name)[kind].push(v);
}
