'use strict';
// bench-node: ours vs Node's built-in MessageChannel, measured in the same run. Every row runs
// both implementations alternately (the order flips each run) and reports the median of RUNS
// runs; the machine may be shared and noisy, so read the ratios.
//   - same-thread port->port and main->worker one-way throughput: a small object
//     {id, name, tags:[1,2,3]} and a nested record; integers (the old headline, kept as a row)
//   - main->worker one-way, a 1 MiB Uint8Array copied and transferred
//   - main<->worker round trip of a small object, p50 and p99 (both workers up at once, the
//     trips alternating between them in blocks: a steady exchange), and p50 of a round trip
//     after the worker has been idle for 5 ms (the first message after a pause)
//   - new MessageChannel() + close both ends
// Environment: BENCH_RUNS (default 5), BENCH_N (messages per throughput run, default 50,000),
// BENCH_BIG (1 MiB messages per run, default 100), BENCH_RTT (round trips per run, default
// 10,000: a p99 of fewer is a handful of scheduler hiccups),
// BENCH_CHANNELS (channels per run, default 5,000), BENCH_ONLY (a regexp of row names),
// BENCH_PKG (the package directory to measure; default bindings/node), BENCH_CPU=1 (a
// diagnostic: also the one-way rows' CPU time per message, of the whole process, which a
// shared, busy machine disturbs far less than wall-clock rates; and the round trip's CPU time
// per trip, each implementation alone for RTT trips, which counts a thread's lingering for its
// next message), BENCH_FLIP=1 (the built-in
// goes first in the first run, for runs of a single round that are then interleaved).
const path = require('path');
const { Worker } = require('worker_threads');
const builtin = require('worker_threads');
const PKG = path.resolve(process.env.BENCH_PKG || path.join(__dirname, '..', '..', 'bindings', 'node'));
const ours = require(PKG);

const RUNS = Number(process.env.BENCH_RUNS || 5);
const N = Number(process.env.BENCH_N || 50000);
const BIG = Number(process.env.BENCH_BIG || 100);
const RTT = Number(process.env.BENCH_RTT || 10000);
const CHANNELS = Number(process.env.BENCH_CHANNELS || 5000);
const ONLY = new RegExp(process.env.BENCH_ONLY || '.');
const CPU = process.env.BENCH_CPU === '1';
const FLIP = process.env.BENCH_FLIP === '1' ? 1 : 0;

const now = () => Number(process.hrtime.bigint()) / 1e6; // ms
const apiOf = (kind) => (kind === 'ours' ? ours : builtin);

const { small, nested, median } = require('./bench-payloads');
const integer = (i) => i;

function sameThread(kind, make, count = N) {
  return new Promise((resolve) => {
    const { port1, port2 } = new (apiOf(kind).MessageChannel)();
    let n = 0;
    const c0 = process.cpuUsage();
    const t0 = now();
    port2.on('message', () => {
      if (++n === count) {
        const ms = now() - t0;
        const c = process.cpuUsage(c0);
        port1.close();
        const rate = count / (ms / 1000);
        // ns of CPU (this process, user + system) per message
        resolve(CPU ? { rate, cpu: ((c.user + c.system) * 1000) / count } : rate);
      }
    });
    for (let i = 0; i < count; i++) port1.postMessage(make(i));
  });
}

// The worker, for both implementations: 'count:K' counts the next K messages then says 'done';
// 'echo' sends every later message back; 'bye' closes.
const WORKER_SRC = `
  const { workerData, parentPort } = require('worker_threads');
  const port = workerData.kind === 'ours'
    ? require(workerData.pkg).importPort(workerData.token) : workerData.port;
  let left = 0;
  let echo = false;
  port.on('message', (m) => {
    if (m === 'bye') {
      port.close();
    } else if (left > 0) {
      if (--left === 0) port.postMessage('done');
    } else if (echo) {
      port.postMessage(m);
    } else if (typeof m === 'string' && m.startsWith('count:')) {
      left = Number(m.slice(6));
    } else if (m === 'echo') {
      echo = true;
    }
  });
  parentPort.postMessage('ready');
`;

async function withWorker(kind, fn) {
  const api = apiOf(kind);
  const { port1, port2 } = new api.MessageChannel();
  let w;
  if (kind === 'ours') {
    w = new Worker(WORKER_SRC, { eval: true, workerData: { kind, pkg: PKG, token: ours.exportPort(port2) } });
  } else {
    w = new Worker(WORKER_SRC, { eval: true, workerData: { kind, port: port2 }, transferList: [port2] });
  }
  await new Promise((resolve) => w.once('message', resolve));
  try {
    return await fn(port1);
  } finally {
    port1.postMessage('bye');
    await new Promise((r) => w.once('exit', r));
  }
}

// main -> worker: post `count` messages made by `make`; the rate until the worker has them all
// (with BENCH_CPU=1, also the CPU time of the whole process, both threads, per message).
function oneWay(port, count, make, transfer) {
  return new Promise((resolve) => {
    const c0 = process.cpuUsage();
    port.once('message', () => {
      const rate = count / ((now() - t0) / 1000);
      const c = process.cpuUsage(c0);
      resolve(CPU ? { rate, cpu: ((c.user + c.system) * 1000) / count } : rate);
    });
    port.postMessage(`count:${count}`);
    const t0 = now();
    for (let i = 0; i < count; i++) {
      const m = make(i);
      if (transfer) port.postMessage(m, [m.buffer]);
      else port.postMessage(m);
    }
  });
}

// The worker must already echo. Resolves with the times (ms) of `count` round trips.
function roundTrips(port, count) {
  return new Promise((resolve) => {
    const rtts = [];
    let t0;
    let i = 0;
    port.on('message', function onReply() {
      rtts.push(now() - t0);
      if (++i === count) {
        port.off('message', onReply);
        resolve(rtts);
        return;
      }
      t0 = now();
      port.postMessage(small(i));
    });
    t0 = now();
    port.postMessage(small(i));
  });
}

// Untimed trips at the start of each block of round trips: a block measures a steady exchange,
// as a loop of requests sees it, not the switch from the other implementation's block (after
// which a thread that lingers for its next message has stopped lingering; the first message
// after a pause is the cold row below).
const RTT_WARM = 2;
// The cold row: one trip after each pause of this many milliseconds, this many per run.
const COLD_IDLE_MS = 5;
const COLD_TRIPS = 100;

// COLD_TRIPS round trips through each of `ports`, each after a pause of COLD_IDLE_MS, the two
// implementations alternating in `order`; resolves with each one's median (µs).
async function coldTrips(ports, order) {
  const times = { ours: [], builtin: [] };
  for (let i = 0; i < COLD_TRIPS; i++) {
    for (const kind of order) {
      await new Promise((resolve) => setTimeout(resolve, COLD_IDLE_MS));
      times[kind].push(...(await roundTrips(ports[kind], 1)));
    }
  }
  return { ours: median(times.ours) * 1000, builtin: median(times.builtin) * 1000 };
}

// Round trips through both implementations' workers at once, in blocks that alternate between
// them, so that both meet the same machine noise (a tail percentile is mostly that noise on a
// shared machine). Resolves with { ours: {p50, p99, cold, cpu?}[], builtin: ... } (µs; cpu in
// ns per trip, with BENCH_CPU=1), one per run.
const RTT_BLOCK = 50;
function roundTripRuns() {
  return withWorker('ours', (po) => withWorker('builtin', async (pb) => {
    const ports = { ours: po, builtin: pb };
    for (const p of [po, pb]) {
      p.postMessage('echo');
      await roundTrips(p, 3000); // warm-up (JIT), untimed
    }
    const out = { ours: [], builtin: [] };
    for (let r = 0; r < RUNS; r++) {
      const order = (r + FLIP) % 2 ? ['builtin', 'ours'] : ['ours', 'builtin'];
      const rtts = { ours: [], builtin: [] };
      for (let b = 0; b * RTT_BLOCK < RTT; b++) {
        for (const kind of (b + r + FLIP) % 2 ? ['builtin', 'ours'] : ['ours', 'builtin']) {
          rtts[kind].push(...(await roundTrips(ports[kind], RTT_WARM + RTT_BLOCK)).slice(RTT_WARM));
        }
      }
      const cold = await coldTrips(ports, order);
      for (const kind of ['ours', 'builtin']) {
        const xs = rtts[kind].sort((a, b) => a - b);
        out[kind].push({
          p50: xs[Math.floor(xs.length * 0.5)] * 1000,
          p99: xs[Math.floor(xs.length * 0.99)] * 1000,
          cold: cold[kind],
        });
      }
      if (CPU) {
        for (const kind of order) {
          const c0 = process.cpuUsage();
          await roundTrips(ports[kind], RTT);
          const c = process.cpuUsage(c0);
          out[kind][r].cpu = ((c.user + c.system) * 1000) / RTT; // ns per trip, both threads
        }
      }
    }
    return out;
  }));
}

async function channels(kind) {
  const { MessageChannel } = apiOf(kind);
  const t0 = now();
  for (let i = 0; i < CHANNELS; i++) {
    const { port1, port2 } = new MessageChannel();
    port1.close();
    port2.close();
  }
  const rate = CHANNELS / ((now() - t0) / 1000);
  await new Promise((r) => setTimeout(r, 50)); // let the close events go by
  return rate;
}

const u8 = new Uint8Array(1 << 20).map((_, i) => i & 255);
const copyMiB = () => u8;
const freshMiB = () => new Uint8Array(1 << 20);

async function main() {
  const rows = [];
  const fmt = (x) => (x >= 1000 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));
  // Runs both kinds RUNS times, alternating which goes first; fn(kind) -> number or {key: number}.
  async function measure(fn) {
    const out = { ours: [], builtin: [] };
    for (let r = 0; r < RUNS; r++) {
      for (const kind of (r + FLIP) % 2 ? ['builtin', 'ours'] : ['ours', 'builtin']) out[kind].push(await fn(kind));
    }
    return out;
  }
  function push(name, unit, o, b, better) {
    const mo = median(o);
    const mb = median(b);
    const ratio = better === 'higher' ? mo / mb : mb / mo;
    rows.push([name, `${fmt(mo)} ${unit}`, `${fmt(mb)} ${unit}`, `${ratio.toFixed(2)}x`]);
    console.error(rows[rows.length - 1].join(' | '));
  }
  async function throughputRow(name, fn) {
    if (!ONLY.test(name)) return;
    const m = await measure(fn);
    if (!CPU) {
      push(name, 'msg/s', m.ours, m.builtin, 'higher');
      return;
    }
    push(name, 'msg/s', m.ours.map((x) => x.rate), m.builtin.map((x) => x.rate), 'higher');
    push(`${name}, CPU per message`, 'ns', m.ours.map((x) => x.cpu), m.builtin.map((x) => x.cpu),
         'lower');
  }
  // Several one-way rows share one worker per implementation and run.
  async function workerRows(specs) {
    specs = specs.filter((s) => ONLY.test(s.name));
    if (specs.length === 0) return;
    const m = await measure((kind) => withWorker(kind, async (port) => {
      const r = {};
      // A fresh worker's JS is cold: warm both ends up first (untimed), as a running app is.
      // Two whole runs' worth, so that the optimizing compiler is done with both isolates'
      // code: after one, the code optimized for the first shapes was dropped again when the
      // later rows' values (a Uint8Array) came, and the first measured row ran partly in the
      // interpreter while the compiler's threads (whose CPU time counts in the CPU rows)
      // optimized it again (seen with --trace-opt; the built-in's code is C++).
      for (let pass = 0; pass < 2; pass++) {
        for (const s of specs) await oneWay(port, s.count, s.make, s.transfer);
      }
      for (const s of specs) r[s.name] = await oneWay(port, s.count, s.make, s.transfer);
      return r;
    }));
    for (const s of specs) {
      const rate = (x) => (CPU ? x[s.name].rate : x[s.name]);
      push(s.name, 'msg/s', m.ours.map(rate), m.builtin.map(rate), 'higher');
      if (CPU) {
        push(`${s.name}, CPU per message (both threads)`, 'ns', m.ours.map((x) => x[s.name].cpu),
             m.builtin.map((x) => x[s.name].cpu), 'lower');
      }
    }
  }

  // Cold JS is not what a running app sees: warm both implementations up first (untimed),
  // every shape twice over, so that the first measured row does not run while the optimizer
  // recompiles code the later shapes had dropped (as for the worker rows below).
  for (let pass = 0; pass < 2; pass++) {
    for (const [name, make] of [['{id, name, tags}', small], ['nested record', nested], ['integers', integer]]) {
      if (!ONLY.test(`same thread, ${name}`)) continue;
      for (const kind of ['ours', 'builtin']) await sameThread(kind, make, Math.ceil(N / 10));
    }
  }
  await throughputRow('same thread, {id, name, tags}', (k) => sameThread(k, small));
  await throughputRow('same thread, nested record', (k) => sameThread(k, nested));
  await throughputRow('same thread, integers', (k) => sameThread(k, integer));
  await workerRows([
    { name: 'main -> worker, {id, name, tags}', count: N, make: small },
    { name: 'main -> worker, nested record', count: N, make: nested },
    { name: 'main -> worker, integers', count: N, make: integer },
    { name: 'main -> worker, 1 MiB Uint8Array copied', count: BIG, make: copyMiB },
    { name: 'main -> worker, 1 MiB Uint8Array transferred', count: BIG, make: freshMiB, transfer: true },
  ]);
  if (ONLY.test('round trip')) {
    const m = await roundTripRuns();
    for (const q of ['p50', 'p99']) {
      push(`main <-> worker round trip ${q}, small object`, 'us', m.ours.map((x) => x[q]),
           m.builtin.map((x) => x[q]), 'lower');
    }
    push(`main <-> worker round trip after ${COLD_IDLE_MS} ms idle, p50`, 'us',
         m.ours.map((x) => x.cold), m.builtin.map((x) => x.cold), 'lower');
    if (CPU) {
      push('main <-> worker round trip, CPU per trip (both threads)', 'ns',
           m.ours.map((x) => x.cpu), m.builtin.map((x) => x.cpu), 'lower');
    }
  }
  if (ONLY.test('new MessageChannel')) {
    const m = await measure(channels);
    push('new MessageChannel() + close both', 'ch/s', m.ours, m.builtin, 'higher');
  }

  const head = [`workload (node ${process.version}, median of ${RUNS})`, 'webmessaging',
                "Node's MessageChannel", 'ratio (>1 = ours better)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => '| ' + r.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log(line(head));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows) console.log(line(r));
}

// Exit once the table is out (a worker or channel still closing must not hold the run open).
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
