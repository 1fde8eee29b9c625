'use strict';
// The Node program of the cross-language matrix (issue 10): with a parent port it is an agent
// serving the driver's commands; with arguments `<child-lang> <third-lang>` it is the driver.
// The protocol is in the project's IPC plan (docs): echo / stream / collect / exit.
const path = require('node:path');
const fs = require('node:fs');
const util = require('node:util');
const v8 = require('node:v8');

const wm = require(path.join(__dirname, '..', '..', 'bindings', 'node'));

const WAIT = 30000;

function fail(why) {
  process.stderr.write(`agent.js (${process.pid}): ${why}\n`);
  process.exit(1);
}

// --- agent mode ------------------------------------------------------------------------------
function serve(parent) {
  const open = new Set([parent]);
  parent.on('messageerror', (err) => {
    // The whole message failed to decode, name included.
    parent.postMessage({ cmd: 'unreadable', name: '?', error: String(err && err.message) });
  });
  parent.addEventListener('message', (ev) => {
    const m = ev.data;
    const cmd = m !== null && typeof m === 'object' ? m.cmd : undefined;
    if (cmd === 'echo') {
      try {
        parent.postMessage({ cmd: 'echo', name: m.name, value: m.value });
      } catch (err) {
        parent.postMessage({ cmd: 'unreadable', name: m.name, error: String(err.message) });
      }
    } else if (cmd === 'stream') {
      const [p] = ev.ports;
      if (p === undefined) fail('stream without a port');
      for (let i = 1; i <= m.n; i++) p.postMessage({ seq: i });
      p.close();
      parent.postMessage({ cmd: 'streamed', n: m.n });
    } else if (cmd === 'collect') {
      const [p] = ev.ports;
      if (p === undefined) fail('collect without a port');
      open.add(p);
      const seqs = [];
      const onMessage = (v) => {
        seqs.push(v.seq);
        if (seqs.length === m.handoff) {
          p.off('message', onMessage);
          open.delete(p);
          // The rest of the stream travels with the port.
          parent.postMessage({ cmd: 'handoff', seqs }, [p]);
        }
      };
      p.on('message', onMessage);
      p.on('close', (e) => {
        if (open.has(p)) fail(`the collected port closed early (${e.reason}) after ${seqs.length}`);
      });
    } else if (cmd === 'exit') {
      for (const p of open) p.close();
      open.clear();
      process.exitCode = 0; // exits once nothing is left to deliver
    } else {
      fail(`unexpected command ${util.inspect(m)}`);
    }
  });
  parent.on('close', (e) => {
    if (open.has(parent)) fail(`the parent port closed (${e.reason}) before 'exit'`);
  });
}

// --- driver mode -----------------------------------------------------------------------------
const AGENT_ENV = { c: 'WM_AGENT_C', python: 'WM_AGENT_PY', node: 'WM_AGENT_NODE' };

function agentArgv(lang) {
  const name = AGENT_ENV[lang];
  if (name === undefined) fail(`unknown language ${lang} (c, python, node)`);
  const raw = process.env[name];
  if (raw === undefined) {
    if (lang === 'node') return [process.execPath, __filename];
    fail(`${name} is not set (a JSON array: the argv that starts the ${lang} agent)`);
  }
  const argv = JSON.parse(raw);
  if (!Array.isArray(argv) || argv.length === 0) fail(`${name} is not a JSON argv array`);
  return argv;
}

// Every message of a port, awaited one at a time, each wait bounded.
class Inbox {
  constructor(port, who) {
    this.who = who;
    this.items = [];
    this.waiting = null;
    this.closed = null;
    port.addEventListener('message', (ev) => this.push({ data: ev.data, ports: ev.ports }));
    port.on('messageerror', (err) => this.push({ error: err }));
    port.on('close', (ev) => {
      this.closed = ev;
      this.push(null);
    });
  }

  push(item) {
    if (item !== null) this.items.push(item);
    const w = this.waiting;
    if (w !== null && (this.items.length > 0 || this.closed !== null)) {
      this.waiting = null;
      w();
    }
  }

  async next(what) {
    while (this.items.length === 0) {
      if (this.closed !== null) fail(`${this.who} closed (${this.closed.reason}) while waiting for ${what}`);
      let timer;
      await new Promise((resolve) => {
        this.waiting = resolve;
        timer = setTimeout(() => fail(`timed out waiting for ${what} from ${this.who}`), WAIT);
      });
      clearTimeout(timer);
    }
    const item = this.items.shift();
    if (item.error !== undefined) fail(`${this.who} sent a message we cannot read: ${item.error}`);
    return item;
  }

  // Resolves with the close event (after every message was taken).
  async end(what) {
    while (this.closed === null || this.items.length > 0) {
      if (this.items.length > 0) return null;
      let timer;
      await new Promise((resolve) => {
        this.waiting = resolve;
        timer = setTimeout(() => fail(`timed out waiting for ${what} from ${this.who}`), WAIT);
      });
      clearTimeout(timer);
    }
    return this.closed;
  }
}

// util.isDeepStrictEqual, except that an Invalid Date equals an Invalid Date (it compares their
// times with ===): as a fallback, values V8 writes to the same bytes are the same.
function same(a, b) {
  if (util.isDeepStrictEqual(a, b)) return true;
  try {
    return v8.serialize(a).equals(v8.serialize(b));
  } catch {
    return false;
  }
}

function readVector(hex) {
  const d = new v8.Deserializer(Buffer.from(hex, 'hex'));
  d.readHeader();
  return d.readValue();
}

function exited(child, who) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => fail(`${who} did not exit`), WAIT);
    const done = (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) fail(`${who} exited with ${code === null ? signal : `status ${code}`}`);
      resolve();
    };
    if (child.exitCode !== null || child.signalCode !== null) done(child.exitCode, child.signalCode);
    else child.once('exit', done);
  });
}

async function drive(childLang, thirdLang) {
  const start = (lang, who) => {
    const [cmd, ...args] = agentArgv(lang);
    const { child, port } = wm.spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', (err) => fail(`cannot start the ${who} (${lang}): ${err.message}`));
    return { child, port, inbox: new Inbox(port, `${who} (${lang})`) };
  };
  const q = start(childLang, 'child');
  const r = start(thirdLang, 'third');

  // 2. Every plain golden vector to the child and back.
  const file = process.env.WM_VECTORS || path.join(__dirname, '..', 'vectors', 'v8-vectors.json');
  const { vectors } = JSON.parse(fs.readFileSync(file, 'utf8'));
  let exchanged = 0;
  const skipped = [];
  for (const vec of vectors) {
    if (vec.mode !== 'plain') continue;
    let value;
    try {
      value = readVector(vec.hex);
    } catch {
      skipped.push(`${vec.name} (node)`); // Node cannot read it
      continue;
    }
    try {
      q.port.postMessage({ cmd: 'echo', name: vec.name, value });
    } catch (err) {
      skipped.push(`${vec.name} (node)`); // more than a receiver reads: refused at the sender
      continue;
    }
    const { data } = await q.inbox.next(`the echo of ${vec.name}`);
    if (data.cmd === 'unreadable') {
      // Named by what we sent: a child that could not read the command cannot name it.
      skipped.push(`${vec.name} (${childLang})`);
      continue;
    }
    if (data.cmd !== 'echo' || data.name !== vec.name) fail(`expected the echo of ${vec.name}, got ${util.inspect(data)}`);
    if (!same(data.value, value)) {
      fail(`${vec.name}: sent ${util.inspect(value)}, got back ${util.inspect(data.value)}`);
    }
    exchanged++;
  }

  // 3. A stream from the third process into a port that moves from the child to us.
  const N = 20000;
  const K = 5000;
  const { port1: m1, port2: m2 } = new wm.MessageChannel();
  q.port.postMessage({ cmd: 'collect', n: N, handoff: K }, [m1]);
  r.port.postMessage({ cmd: 'stream', n: N }, [m2]);
  const handoff = await q.inbox.next('the handoff');
  if (handoff.data.cmd !== 'handoff' || handoff.ports.length !== 1) fail(`bad handoff ${util.inspect(handoff.data)}`);
  const seqs = handoff.data.seqs.slice();
  const moved = new Inbox(handoff.ports[0], 'the moved port');
  for (;;) {
    const ev = await moved.end(`message ${seqs.length + 1} of ${N}`);
    if (ev !== null) break;
    seqs.push((await moved.next('a streamed message')).data.seq);
  }
  if (seqs.length !== N || !seqs.every((s, i) => s === i + 1)) {
    const bad = seqs.findIndex((s, i) => s !== i + 1);
    fail(`streamed ${seqs.length} of ${N}; first out of place at ${bad}: ${seqs[bad]}`);
  }
  const streamed = await r.inbox.next("the third's streamed report");
  if (streamed.data.cmd !== 'streamed' || streamed.data.n !== N) fail(`bad report ${util.inspect(streamed.data)}`);

  // 4. Done: both exit 0.
  q.port.postMessage({ cmd: 'exit' });
  r.port.postMessage({ cmd: 'exit' });
  await Promise.all([exited(q.child, 'the child'), exited(r.child, 'the third')]);
  q.port.close();
  r.port.close();
  const names = skipped.length === 0 ? '' : ` [${skipped.join(', ')}]`;
  console.log(`matrix node->${childLang} (third ${thirdLang}): ${exchanged} values exchanged, ` +
              `${skipped.length} skipped${names}, ${N} streamed across a moving port: OK`);
  process.exit(0);
}

let parent;
try {
  parent = wm.parentPort();
} catch (err) {
  fail(`parentPort(): ${err.message}`);
}
if (parent !== null) {
  serve(parent);
} else {
  const [childLang, thirdLang] = process.argv.slice(2);
  if (childLang === undefined || thirdLang === undefined) {
    fail('usage: node tests/ipc/agent.js <child-lang> <third-lang> (langs: c, python, node)');
  }
  drive(childLang, thirdLang).catch((err) => fail(err && err.stack));
}
