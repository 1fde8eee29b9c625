'use strict';
// Cross-process ports from Node (issue 10): spawn/parentPort with a Node child (values, typed
// arrays and ports both ways; close and SIGKILL), listen/connect, exportFd/importFd, the
// listener's hold on the process, and the named errors. Every wait has a timeout.
const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const util = require('node:util');
const { execFile } = require('node:child_process');
const { PKG, runChild } = require('./helpers');
const wm = require(PKG);

const CHILD = path.join(__dirname, 'ipc-child.js');
const WAIT = 15000;

// Resolves with `promise`, or rejects after `ms` saying what was awaited.
function within(promise, what, ms = WAIT) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// The next `n` messages of `port` (values, and the ports each carried).
function nextMessages(port, n, what) {
  return within(new Promise((resolve) => {
    const got = [];
    const onMessage = (ev) => {
      got.push({ data: ev.data, ports: ev.ports });
      if (got.length === n) {
        port.removeEventListener('message', onMessage);
        resolve(got);
      }
    };
    port.addEventListener('message', onMessage);
  }), what);
}

const closeOf = (port, what) => within(new Promise((resolve) => port.once('close', resolve)), what);
const exitOf = (child) => within(new Promise((resolve) => {
  if (child.exitCode !== null || child.signalCode !== null) resolve([child.exitCode, child.signalCode]);
  else child.once('exit', (code, signal) => resolve([code, signal]));
}), 'the child to exit');

function tmpPath(name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wm-ipc-'));
  return { dir, file: path.join(dir, name) };
}

function spawnChild(env) {
  const { child, port } = wm.spawn(process.execPath, [CHILD], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: env === undefined ? undefined : { ...process.env, ...env },
  });
  return { child, port };
}

test('parentPort() is null in a process nobody spawned with a port, every time', () => {
  assert.strictEqual(wm.parentPort(), null);
  assert.strictEqual(wm.parentPort(), null);
});

test('spawn: objects, nested values and typed arrays go to a Node child and back', async () => {
  const { child, port } = spawnChild({ WM_TEST_VAR: 'from options.env' });
  try {
    const values = [
      42, 'text', null, [1, 'two', [3]], new Map([['k', { deep: [1, 2, { deeper: true }] }]]),
      { id: 7, name: 'item', tags: [1, 2, 3] }, new Set([1, 2]), -0, NaN, 2n ** 70n,
      { when: new Date(0), re: /x+/gi, f64: new Float64Array([1.5, -2]), u8: new Uint8Array([1, 2, 255]) },
    ];
    for (const value of values) {
      port.postMessage({ cmd: 'echo', value });
      const [reply] = await nextMessages(port, 1, 'an echo');
      assert.ok(util.isDeepStrictEqual(reply.data.value, value), util.inspect({ sent: value, got: reply.data.value }));
    }
    // Transferred typed arrays: detached here, equal there and back.
    const u8 = new Uint8Array(100000).map((_, i) => i & 255);
    const copy = u8.slice();
    port.postMessage({ cmd: 'echo', value: { u8 } }, [u8.buffer]);
    assert.strictEqual(u8.byteLength, 0);
    const [reply] = await nextMessages(port, 1, 'a transferred echo');
    assert.deepStrictEqual(reply.data.value.u8, copy);
    // options.env is merged with the port's variable.
    port.postMessage({ cmd: 'env' });
    const [env] = await nextMessages(port, 1, 'the env reply');
    assert.strictEqual(env.data.value, 'from options.env');
    port.postMessage({ cmd: 'exit' });
    const ev = await closeOf(port, 'the close after exit');
    assert.strictEqual(ev.reason, 'closed');
    assert.strictEqual(ev.byPeer, true);
    assert.deepStrictEqual(await exitOf(child), [0, null]);
  } finally {
    child.kill('SIGKILL');
  }
});

test('spawn: ports cross to the child and back', async () => {
  const { child, port } = spawnChild();
  try {
    const { port1, port2 } = new wm.MessageChannel();
    port.postMessage({ cmd: 'port' }, [port2]);
    const [onMine] = await nextMessages(port1, 1, 'a message on the port we sent');
    assert.deepStrictEqual(onMine.data, { via: 'your port', pid: child.pid });
    const closed = await closeOf(port1, 'the close of the port we sent');
    assert.strictEqual(closed.reason, 'closed');
    assert.strictEqual(closed.byPeer, true);
    const [back] = await nextMessages(port, 1, 'the port the child sent');
    assert.strictEqual(back.data.cmd, 'port-back');
    assert.strictEqual(back.ports.length, 1);
    assert.ok(back.ports[0] instanceof wm.MessagePort);
    const [onTheirs] = await nextMessages(back.ports[0], 1, "a message on the child's port");
    assert.deepStrictEqual(onTheirs.data, { via: 'my port', pid: child.pid });
    port.postMessage({ cmd: 'exit' });
    assert.deepStrictEqual(await exitOf(child), [0, null]);
  } finally {
    child.kill('SIGKILL');
  }
});

test('a port from another process moves on to a Worker and works there', async () => {
  const { Worker } = require('node:worker_threads');
  const { child, port } = spawnChild({ WM_TEST_VAR: 'to the worker' });
  try {
    const worker = new Worker(`
      const { workerData, parentPort } = require('node:worker_threads');
      const port = require(workerData.pkg).importPort(workerData.token);
      port.once('message', (m) => { parentPort.postMessage(m); port.postMessage({ cmd: 'exit' }); port.close(); });
      port.postMessage({ cmd: 'env' });`, { eval: true, workerData: { pkg: PKG, token: wm.exportPort(port) } });
    const workerExit = new Promise((resolve) => worker.once('exit', resolve));
    const m = await within(new Promise((resolve) => worker.once('message', resolve)), "the worker's report");
    assert.deepStrictEqual(m, { cmd: 'env', value: 'to the worker' });
    assert.deepStrictEqual(await exitOf(child), [0, null]);
    await within(workerExit, 'the worker to exit');
  } finally {
    child.kill('SIGKILL');
  }
});

test('a port the child drops is collected there, and its peer here sees close (dropped)', async () => {
  const { child, port } = wm.spawn(process.execPath, ['--expose-gc', CHILD], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const { port1, port2 } = new wm.MessageChannel();
    const closed = closeOf(port1, 'the close of the dropped port');
    port1.start();
    port.postMessage({ cmd: 'drop' }, [port2]);
    const ev = await closed;
    assert.strictEqual(ev.reason, 'dropped');
    assert.strictEqual(ev.byPeer, true);
    port.postMessage({ cmd: 'exit' });
    assert.deepStrictEqual(await exitOf(child), [0, null]);
  } finally {
    child.kill('SIGKILL');
  }
});

test('N messages then close in the child: N messages, then close (closed, by the peer)', async () => {
  const { child, port } = spawnChild();
  try {
    const N = 5000;
    const seqs = [];
    port.on('message', (m) => seqs.push(m.seq));
    const closed = closeOf(port, 'the close after N messages');
    port.postMessage({ cmd: 'stream', n: N, then: 'close' });
    const ev = await closed;
    assert.strictEqual(seqs.length, N);
    assert.ok(seqs.every((s, i) => s === i + 1), 'in order, none missing');
    assert.strictEqual(ev.reason, 'closed');
    assert.strictEqual(ev.byPeer, true);
    assert.deepStrictEqual(await exitOf(child), [0, null]);
  } finally {
    child.kill('SIGKILL');
  }
});

test('N messages then process.exit() in the child: N messages, then close (lost)', async () => {
  const { child, port } = spawnChild();
  try {
    const N = 20000;
    const seqs = [];
    port.on('message', (m) => seqs.push(m.seq));
    const closed = closeOf(port, 'the close after the exit');
    port.postMessage({ cmd: 'stream', n: N, then: 'exit' });
    const ev = await closed;
    assert.strictEqual(seqs.length, N);
    assert.ok(seqs.every((s, i) => s === i + 1), 'in order, none missing');
    // process.exit() closes nothing (Node runs no cleanup hooks then): the transport flushes
    // what was posted at exit, and the process ended without closing its port.
    assert.strictEqual(ev.reason, 'lost');
    assert.strictEqual(ev.byPeer, true);
    assert.deepStrictEqual(await exitOf(child), [0, null]);
  } finally {
    child.kill('SIGKILL');
  }
});

test('SIGKILL of the child after it wrote N: N messages, then close (lost)', async () => {
  const { child, port } = spawnChild();
  try {
    const N = 2000;
    const seqs = [];
    port.on('message', (m) => seqs.push(m.seq));
    const closed = closeOf(port, "the close after the child's death");
    child.stdout.on('data', (d) => {
      if (String(d).includes('wrote')) child.kill('SIGKILL');
    });
    port.postMessage({ cmd: 'stream', n: N, then: 'wait' });
    const [, signal] = await exitOf(child);
    assert.strictEqual(signal, 'SIGKILL');
    const ev = await closed;
    assert.strictEqual(seqs.length, N);
    assert.ok(seqs.every((s, i) => s === i + 1), 'in order, none missing');
    assert.strictEqual(ev.reason, 'lost');
    assert.strictEqual(ev.byPeer, true);
  } finally {
    child.kill('SIGKILL');
  }
});

test('a port from another process referenced only by its listener survives gc', async () => {
  const r = await runChild(`
    (() => {
      const { child, port } = wm.spawn(process.execPath, [${JSON.stringify(CHILD)}], { stdio: 'ignore' });
      child.unref(); // only the port may keep this process alive
      port.on('message', (m) => console.log('got ' + m.seq));
      port.on('close', (ev) => console.log('close ' + ev.reason));
      port.postMessage({ cmd: 'stream', n: 3, then: 'close', delay: 300 });
    })();
    setTimeout(() => { for (let i = 0; i < 5; i++) global.gc(); }, 50);`, { args: ['--expose-gc'], timeout: WAIT });
  assert.strictEqual(r.code, 0, JSON.stringify(r));
  assert.strictEqual(r.stdout, 'got 1\ngot 2\ngot 3\nclose closed\n');
});

test('ref/unref of a port from another process: unref lets the process exit', async () => {
  // Ref'd (a 'message' listener): alive until the port closes, though only an unref'd timer
  // is pending; unref'd: exits at once.
  const script = (unref) => `
    const { child, port } = wm.spawn(process.execPath, [${JSON.stringify(CHILD)}], { stdio: 'ignore' });
    child.unref();
    port.on('message', () => {});
    ${unref ? 'port.unref();' : ''}
    setTimeout(() => { console.log('still here'); port.close(); }, 300).unref();`;
  const held = await runChild(script(false), { timeout: WAIT });
  assert.strictEqual(held.code, 0, JSON.stringify(held));
  assert.strictEqual(held.stdout, 'still here\n');
  const free = await runChild(script(true), { timeout: WAIT });
  assert.strictEqual(free.code, 0, JSON.stringify(free));
  assert.strictEqual(free.stdout, '');
});

test('spawn of a command that does not exist: the child errors, the port closes (lost)', async () => {
  const { child, port } = wm.spawn(path.join(os.tmpdir(), 'wm-no-such-command'), [], { stdio: 'ignore' });
  const err = await within(new Promise((resolve) => child.once('error', resolve)), 'the spawn error');
  assert.strictEqual(err.code, 'ENOENT');
  const ev = await closeOf(port, 'the close of a port nobody took');
  assert.strictEqual(ev.reason, 'lost');
});

test('spawn that throws (bad arguments) closes its port and leaks no descriptor', async () => {
  const fds = () => fs.readdirSync('/proc/self/fd').length;
  // Start the transport first, so its own descriptors are in the baseline.
  fs.closeSync(wm.exportFd(new wm.MessageChannel().port1));
  await new Promise((r) => setTimeout(r, 50));
  const before = fds();
  for (let i = 0; i < 20; i++) {
    // Refused by child_process.spawn, after the port was exported.
    assert.throws(() => wm.spawn(process.execPath, [CHILD], { cwd: 42 }), (e) => e.code === 'ERR_INVALID_ARG_TYPE');
  }
  // The transport lets go of the exported ends once it sees their peers gone.
  await within((async () => {
    while (fds() > before) await new Promise((r) => setTimeout(r, 20));
  })(), `the descriptor count to return to ${before} (now ${fds()})`);
});

test('listen/connect: two client processes each get a port of their own', async () => {
  const { dir, file } = tmpPath('server.sock');
  const server = wm.listen(file);
  try {
    assert.ok(server instanceof wm.Listener);
    assert.throws(() => new wm.Listener(), (e) => e.code === 'ERR_CONSTRUCT_CALL_INVALID');
    assert.strictEqual(server.path, file);
    assert.strictEqual(fs.statSync(file).mode & 0o077, 0, 'owner-only socket');
    const seen = [];
    server.on('connect', (ev) => {
      assert.strictEqual(ev.type, 'connect');
      const [port] = ev.ports;
      assert.ok(port instanceof wm.MessagePort);
      port.on('message', (m) => {
        seen.push(m.client);
        port.postMessage({ reply: m.client * 10 });
      });
    });
    const client = (n) => runChild(`
      wm.connect(${JSON.stringify(file)}, { timeout: 10000 }).then((port) => {
        port.on('message', (m) => { console.log(JSON.stringify(m)); port.close(); });
        port.postMessage({ client: ${n} });
      }, (e) => { console.error(e); process.exit(3); });`, { timeout: WAIT });
    const [a, b] = await Promise.all([client(1), client(2)]);
    assert.strictEqual(a.code, 0, JSON.stringify(a));
    assert.strictEqual(b.code, 0, JSON.stringify(b));
    assert.deepStrictEqual(JSON.parse(a.stdout), { reply: 10 });
    assert.deepStrictEqual(JSON.parse(b.stdout), { reply: 20 });
    assert.deepStrictEqual(seen.sort(), [1, 2]);
  } finally {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(!fs.existsSync(file), 'close() removes the socket path');
});

test('listen on a path that exists: EADDRINUSE, and the file is left alone', () => {
  const { dir, file } = tmpPath('taken');
  try {
    fs.writeFileSync(file, 'precious');
    assert.throws(() => wm.listen(file), (e) => e instanceof Error && e.code === 'EADDRINUSE');
    assert.strictEqual(fs.readFileSync(file, 'utf8'), 'precious');
    const live = path.join(dir, 'live.sock');
    const server = wm.listen(live);
    try {
      assert.throws(() => wm.listen(live), (e) => e.code === 'EADDRINUSE');
    } finally {
      server.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('listen in a directory that may not be written: EACCES', async () => {
  const { dir } = tmpPath('x');
  try {
    fs.chmodSync(dir, 0o500);
    const file = path.join(dir, 'x.sock');
    // Root may write anywhere: then the listen runs in a child as user nobody.
    const asRoot = process.getuid() === 0;
    const r = await new Promise((resolve) => {
      execFile(process.execPath, ['-e', `
        const wm = require(${JSON.stringify(PKG)});
        try { wm.listen(${JSON.stringify(file)}); console.log('listening'); process.exit(0); }
        catch (e) { console.log(e.code); }`],
      { timeout: WAIT, ...(asRoot ? { uid: 65534, gid: 65534 } : {}) },
      (err, stdout, stderr) => resolve({ err, stdout, stderr }));
    });
    assert.strictEqual(r.stdout.trim(), 'EACCES', JSON.stringify(r));
    assert.ok(!fs.existsSync(file));
  } finally {
    fs.chmodSync(dir, 0o700);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('connect to a path where nothing listens: ENOENT', async () => {
  const { dir, file } = tmpPath('nobody.sock');
  try {
    await assert.rejects(within(wm.connect(file), 'connect to fail'), (e) => e.code === 'ENOENT');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("out of descriptors: the listener emits 'error' (EMFILE), then accepts once some are free", async () => {
  const { dir, file } = tmpPath('full.sock');
  // A server with a low descriptor limit fills it up, then a client connects from here.
  const server = execFile('sh', ['-c', `ulimit -n 64 && exec "$0" -e "$1"`, process.execPath, `
    const fs = require('fs');
    const wm = require(${JSON.stringify(PKG)});
    const server = wm.listen(${JSON.stringify(file)});
    const filler = [];
    try { for (;;) filler.push(fs.openSync('/dev/null', 'r')); } catch (e) { if (e.code !== 'EMFILE') throw e; }
    server.once('error', (e) => {
      console.log('error ' + e.code);
      for (const fd of filler) fs.closeSync(fd);
    });
    server.on('connect', (ev) => {
      console.log('connected');
      ev.ports[0].postMessage('hi');
      ev.ports[0].close();
      server.close();
    });
    console.log('full');`], { timeout: WAIT, killSignal: 'SIGKILL' });
  try {
    let out = '';
    const exited = new Promise((resolve) => server.on('exit', (code) => resolve(code)));
    await within(new Promise((resolve) => server.stdout.on('data', (d) => {
      out += d;
      if (out.includes('full')) resolve();
    })), 'the server to fill its descriptors');
    const port = await within(wm.connect(file, { timeout: WAIT }), 'the connect');
    const [m] = await nextMessages(port, 1, 'the greeting');
    assert.strictEqual(m.data, 'hi');
    assert.strictEqual(await within(exited, 'the server to exit'), 0);
    assert.match(out, /full\nerror EMFILE\n(error EMFILE\n)*connected\n/);
  } finally {
    server.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('exportFd/importFd between two ports of one process: backlog and both directions', async () => {
  const { port1, port2 } = new wm.MessageChannel();
  port1.postMessage({ before: 1 }); // queued at port2 before it is exported
  const fd = wm.exportFd(port2);
  assert.strictEqual(typeof fd, 'number');
  const gone = await closeOf(port2, 'the exported port object to close');
  assert.strictEqual(gone.reason, 'transferred');
  port1.postMessage({ after: 2 }); // sent while the port is a descriptor
  const port3 = wm.importFd(fd);
  const got = await nextMessages(port3, 2, 'the backlog on the imported port');
  assert.deepStrictEqual(got.map((m) => m.data), [{ before: 1 }, { after: 2 }]);
  port3.postMessage('back');
  const [back] = await nextMessages(port1, 1, 'a reply from the imported port');
  assert.strictEqual(back.data, 'back');
  const closed = closeOf(port1, 'the close from the imported port');
  port3.close();
  const ev = await closed;
  assert.strictEqual(ev.reason, 'closed');
  assert.strictEqual(ev.byPeer, true);
});

test('exportFd of a closed or transferred port is a DataCloneError; importFd checks its fd', () => {
  const { port1, port2 } = new wm.MessageChannel();
  port1.close();
  assert.throws(() => wm.exportFd(port1), (e) => e instanceof DOMException && e.name === 'DataCloneError');
  const fd = wm.exportFd(port2);
  assert.throws(() => wm.exportFd(port2), (e) => e instanceof DOMException && e.name === 'DataCloneError');
  fs.closeSync(fd);
  assert.throws(() => wm.exportFd({}), (e) => e.code === 'ERR_INVALID_ARG_TYPE');
  assert.throws(() => wm.importFd(-1), (e) => e.code === 'ERR_OUT_OF_RANGE');
  assert.throws(() => wm.importFd(1.5), (e) => e.code === 'ERR_OUT_OF_RANGE');
  assert.throws(() => wm.importFd(fd), (e) => e.code === 'EBADF'); // closed just above
});

test('a listening server keeps the process alive until close()', async () => {
  const { dir, file } = tmpPath('alive.sock');
  try {
    // Only the listener can keep this process alive (the timer is unref'd).
    const r = await runChild(`
      const server = wm.listen(${JSON.stringify(file)});
      setTimeout(() => { console.log('still here'); server.close(() => console.log('closed')); }, 200).unref();`,
    { timeout: WAIT });
    assert.strictEqual(r.code, 0, JSON.stringify(r));
    assert.match(r.stdout, /still here\nclosed\n/);
    assert.ok(!fs.existsSync(file));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("an unref()'d server does not keep the process alive, and its path goes at exit", async () => {
  const { dir, file } = tmpPath('unref.sock');
  try {
    const r = await runChild(`
      const server = wm.listen(${JSON.stringify(file)}).unref();
      if (server.hasRef()) process.exit(4);
      setTimeout(() => console.log('still here'), 200).unref();`, { timeout: WAIT });
    assert.strictEqual(r.code, 0, JSON.stringify(r));
    assert.doesNotMatch(r.stdout, /still here/);
    assert.ok(!fs.existsSync(file), 'the socket path is removed at exit');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
