'use strict';
// demo-node: a worker pool fed through transferred ports.
//
// The main thread hands each worker one of our MessagePorts (exportPort -> workerData ->
// importPort: Node's own transfer list cannot carry them). Every job then travels with a fresh
// reply port in its transfer list, so the answer comes straight back to whoever asked, and the
// worker never needs to know who that was.
const path = require('path');
const { Worker } = require('worker_threads');
const { MessageChannel, exportPort } = require(path.join(__dirname, '..', '..', 'bindings', 'node'));

const WORKERS = 3;
const JOBS = 12;

const WORKER = `
  const { workerData } = require('worker_threads');
  const { importPort } = require(workerData.pkg);
  const jobs = importPort(workerData.port);
  jobs.on('message', ({ n, reply }) => {
    // Some work: the n-th prime.
    let count = 0, x = 1;
    while (count < n) { x++; let p = true; for (let d = 2; d * d <= x; d++) if (x % d === 0) { p = false; break; } if (p) count++; }
    reply.postMessage({ n, prime: x, worker: workerData.id });
    reply.close();
  });
  jobs.on('close', () => {}); // the pool closed our queue: the worker exits by itself
`;

const pool = [];
for (let id = 0; id < WORKERS; id++) {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { pkg: path.join(__dirname, '..', '..', 'bindings', 'node'), id, port: exportPort(port2) },
  });
  pool.push({ port: port1, worker });
}

function run(n, i) {
  const { port1: answer, port2: reply } = new MessageChannel();
  pool[i % WORKERS].port.postMessage({ n, reply }, [reply]);
  return new Promise((resolve) => answer.once('message', (m) => { answer.close(); resolve(m); }));
}

(async () => {
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: JOBS }, (_, i) => run(1000 + 500 * i, i)));
  for (const r of results) console.log(`prime #${r.n} = ${r.prime} (worker ${r.worker})`);
  for (const { port } of pool) port.close();
  const codes = await Promise.all(pool.map(({ worker }) => new Promise((r) => worker.once('exit', r))));
  console.log(`${JOBS} jobs on ${WORKERS} workers in ${Date.now() - started} ms; workers exited with ${codes.join(', ')}`);
})();
