'use strict';
// bench-node: ours vs Node's built-in MessageChannel, measured in the same run.
//   - same-thread port-to-port throughput (small messages)
//   - main <- worker one-way throughput (small messages)
//   - main <-> worker ping-pong round trip, p50 and p99
// Each figure is the median of RUNS runs; the machine is shared and noisy, so read the ratios.
const path = require('path');
const { Worker } = require('worker_threads');
const builtin = require('worker_threads');
const PKG = path.join(__dirname, '..', '..', 'bindings', 'node');
const ours = require(PKG);

const RUNS = Number(process.env.BENCH_RUNS || 3);
const N = Number(process.env.BENCH_N || 200000);
const RTT = Number(process.env.BENCH_RTT || 5000);

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const now = () => Number(process.hrtime.bigint()) / 1e6; // ms

function sameThread(api) {
  return new Promise((resolve) => {
    const { port1, port2 } = new api.MessageChannel();
    let n = 0;
    const t0 = now();
    port2.on('message', () => {
      if (++n === N) {
        const ms = now() - t0;
        port1.close();
        resolve(N / (ms / 1000));
      }
    });
    for (let i = 0; i < N; i++) port1.postMessage(i);
  });
}

// The worker side, for both implementations: `port` is the worker's end.
const WORKER_SRC = `
  const { workerData, parentPort } = require('worker_threads');
  let port;
  if (workerData.kind === 'ours') port = require(workerData.pkg).importPort(workerData.token);
  else port = workerData.port;
  port.on('message', (m) => {
    if (m === 'flood') { for (let i = 0; i < workerData.n; i++) port.postMessage(i); port.postMessage('done'); }
    else if (m === 'bye') port.close();
    else port.postMessage(m);
  });
  parentPort.postMessage('ready');
`;

function startWorker(kind) {
  const api = kind === 'ours' ? ours : builtin;
  const { port1, port2 } = new api.MessageChannel();
  let w;
  if (kind === 'ours') {
    w = new Worker(WORKER_SRC, { eval: true, workerData: { kind, pkg: PKG, token: ours.exportPort(port2), n: N } });
  } else {
    w = new Worker(WORKER_SRC, { eval: true, workerData: { kind, port: port2, n: N }, transferList: [port2] });
  }
  return new Promise((resolve) => w.once('message', () => resolve({ w, port: port1 })));
}

async function oneWay(kind) {
  const { w, port } = await startWorker(kind);
  const rate = await new Promise((resolve) => {
    let n = 0;
    let t0;
    port.on('message', (m) => {
      if (m === 'done') resolve(n / ((now() - t0) / 1000));
      else n++;
    });
    t0 = now();
    port.postMessage('flood');
  });
  port.postMessage('bye');
  await new Promise((r) => w.once('exit', r));
  return rate;
}

async function pingPong(kind) {
  const { w, port } = await startWorker(kind);
  const rtts = [];
  await new Promise((resolve) => {
    let i = 0;
    let t0;
    port.on('message', () => {
      rtts.push(now() - t0);
      if (++i === RTT) return resolve();
      t0 = now();
      port.postMessage(i);
    });
    t0 = now();
    port.postMessage(i);
  });
  port.postMessage('bye');
  await new Promise((r) => w.once('exit', r));
  rtts.sort((a, b) => a - b);
  return { p50: rtts[Math.floor(RTT * 0.5)] * 1000, p99: rtts[Math.floor(RTT * 0.99)] * 1000 };
}

async function main() {
  const rows = [];
  const fmt = (x) => (x >= 1000 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));
  async function row(name, unit, fn, better) {
    const o = [];
    const b = [];
    for (let r = 0; r < RUNS; r++) {
      o.push(await fn('ours'));
      b.push(await fn('builtin'));
    }
    const mo = median(o);
    const mb = median(b);
    const ratio = better === 'higher' ? mo / mb : mb / mo;
    rows.push([name, `${fmt(mo)} ${unit}`, `${fmt(mb)} ${unit}`, `${ratio.toFixed(2)}x`]);
  }
  await row('same-thread port->port, small msgs', 'msg/s', (k) => sameThread(k === 'ours' ? ours : builtin), 'higher');
  await row('worker -> main one-way, small msgs', 'msg/s', oneWay, 'higher');
  const pp = { ours: [], builtin: [] };
  for (let r = 0; r < RUNS; r++) {
    pp.ours.push(await pingPong('ours'));
    pp.builtin.push(await pingPong('builtin'));
  }
  for (const q of ['p50', 'p99']) {
    const mo = median(pp.ours.map((x) => x[q]));
    const mb = median(pp.builtin.map((x) => x[q]));
    rows.push([`main <-> worker ping-pong RTT ${q}`, `${mo.toFixed(1)} us`, `${mb.toFixed(1)} us`, `${(mb / mo).toFixed(2)}x`]);
  }
  const head = ['workload (node ' + process.version + `, median of ${RUNS})`, 'webmessaging', "Node's MessageChannel", 'ours/theirs (>1 = ours better)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => '| ' + r.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log(line(head));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows) console.log(line(r));
}

main().catch((e) => { console.error(e); process.exit(1); });
