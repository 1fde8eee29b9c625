'use strict';
// bench-node-ipc: Node <-> Node between two processes, webmessaging's cross-process port (spawn +
// parentPort) beside child_process.fork's IPC channel with serialization 'json' and 'advanced',
// measured in the same run. Each run starts one child per implementation, warms it up (untimed),
// then measures; the three run in a rotating order, and every figure is the median of RUNS
// runs. Rows: one-way throughput of a small object {id, name, tags:[1,2,3]} and of a nested
// record; round trip p50 and p99 of the small object. The ratio compares ours with the faster
// of the two fork serializations in that row.
// Environment: BENCH_RUNS (default 5), BENCH_N (messages per throughput run, default 50,000),
// BENCH_RTT (round trips per run, default 2,000).
const path = require('node:path');
const { fork } = require('node:child_process');
const wm = require(path.join(__dirname, '..', '..', 'bindings', 'node'));

const RUNS = Number(process.env.BENCH_RUNS || 5);
const N = Number(process.env.BENCH_N || 50000);
const RTT = Number(process.env.BENCH_RTT || 2000);
const CHILD = path.join(__dirname, 'bench-ipc-child.js');
const KINDS = ['ours', 'json', 'advanced'];
const LABEL = { ours: 'webmessaging', json: "fork 'json'", advanced: "fork 'advanced'" };

const now = () => Number(process.hrtime.bigint()) / 1e6; // ms

const { small, nested, median } = require('./bench-payloads');

// A child of `kind` as { send, on(fn), off(fn), end() }.
async function startChild(kind) {
  let ch;
  if (kind === 'ours') {
    const { child, port } = wm.spawn(process.execPath, [CHILD], { stdio: 'inherit' });
    ch = {
      send: (m) => port.postMessage(m),
      on: (fn) => port.on('message', fn),
      off: (fn) => port.off('message', fn),
      end: () => { port.postMessage('bye'); return new Promise((r) => child.once('exit', r)); },
    };
  } else {
    const child = fork(CHILD, [], { serialization: kind, stdio: 'inherit' });
    ch = {
      send: (m) => child.send(m),
      on: (fn) => child.on('message', fn),
      off: (fn) => child.off('message', fn),
      end: () => { child.send('bye'); return new Promise((r) => child.once('exit', r)); },
    };
  }
  await once(ch, 'ready');
  return ch;
}

function once(ch, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${what}' from the child`)), 60000);
    const fn = (m) => {
      if (m !== what) return;
      clearTimeout(timer);
      ch.off(fn);
      resolve();
    };
    ch.on(fn);
  });
}

// One-way: `count` messages made by `make`; the rate until the child has them all.
async function oneWay(ch, count, make) {
  const done = once(ch, 'done');
  ch.send(`count:${count}`);
  const t0 = now();
  for (let i = 0; i < count; i++) ch.send(make(i));
  await done;
  return count / ((now() - t0) / 1000);
}

// The child must echo already. p50 and p99 of `count` sequential round trips, in µs.
function roundTrips(ch, count) {
  return new Promise((resolve) => {
    const rtts = [];
    let t0;
    let i = 0;
    const onReply = () => {
      rtts.push(now() - t0);
      if (++i === count) {
        ch.off(onReply);
        rtts.sort((a, b) => a - b);
        resolve({ p50: rtts[Math.floor(count * 0.5)] * 1000, p99: rtts[Math.floor(count * 0.99)] * 1000 });
        return;
      }
      t0 = now();
      ch.send(small(i));
    };
    ch.on(onReply);
    t0 = now();
    ch.send(small(i));
  });
}

async function oneRun(kind) {
  const ch = await startChild(kind);
  try {
    // A fresh child's JS is cold: warm both ends up first (untimed), as a running app is.
    await oneWay(ch, N / 10, small);
    await oneWay(ch, N / 10, nested);
    const r = { small: await oneWay(ch, N, small), nested: await oneWay(ch, N, nested) };
    ch.send('echo');
    await roundTrips(ch, 500);
    Object.assign(r, await roundTrips(ch, RTT));
    return r;
  } finally {
    await ch.end();
  }
}

async function main() {
  const runs = { ours: [], json: [], advanced: [] };
  for (let r = 0; r < RUNS; r++) {
    // Rotate the order so no implementation always runs first (or last) in a run.
    const order = KINDS.map((_, i) => KINDS[(i + r) % KINDS.length]);
    for (const kind of order) runs[kind].push(await oneRun(kind));
    console.error(`run ${r + 1}/${RUNS}: ` + KINDS.map((k) => `${k} ${Math.round(runs[k][r].small)} msg/s`).join(', '));
  }
  const fmt = (x) => (x >= 1000 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));
  const rows = [];
  const row = (name, key, unit, better) => {
    const m = Object.fromEntries(KINDS.map((k) => [k, median(runs[k].map((x) => x[key]))]));
    const peer = better === 'higher' ? Math.max(m.json, m.advanced) : Math.min(m.json, m.advanced);
    const ratio = better === 'higher' ? m.ours / peer : peer / m.ours;
    rows.push([name, ...KINDS.map((k) => `${fmt(m[k])} ${unit}`), `${ratio.toFixed(2)}x`]);
  };
  row('process -> process one-way, {id, name, tags}', 'small', 'msg/s', 'higher');
  row('process -> process one-way, nested record', 'nested', 'msg/s', 'higher');
  row('round trip p50, small object', 'p50', 'us', 'lower');
  row('round trip p99, small object', 'p99', 'us', 'lower');
  const head = [`workload (node ${process.version}, median of ${RUNS})`, ...KINDS.map((k) => LABEL[k]),
                'ratio vs the faster fork (>1 = ours better)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => '| ' + r.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log(line(head));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows) console.log(line(r));
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
