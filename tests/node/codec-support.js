'use strict';
// Shared by the codec tests: V8's own codec as the oracle, a deep equality that also checks
// which objects are shared (and cycles), and a seeded value generator.
const v8 = require('node:v8');

function v8Bytes(value, buffers) {
  const s = new v8.Serializer();
  s.writeHeader();
  if (buffers) buffers.forEach((b, i) => s.transferArrayBuffer(i, b));
  s.writeValue(value);
  return s.releaseBuffer();
}

function v8Read(bytes, buffers) {
  const d = new v8.Deserializer(bytes);
  d.readHeader();
  if (buffers) buffers.forEach((b, i) => d.transferArrayBuffer(i, b));
  return d.readValue();
}

const TA = Object.getPrototypeOf(Uint8Array);

// Structural equality with a one-to-one map between the objects of `a` and `b`: shared
// references and cycles must be shared in the same places. Numbers by Object.is (-0, NaN).
function sameGraph(a, b, path = '$', map = new Map(), back = new Map()) {
  const fail = (why) => {
    throw new Error(`${path}: ${why}`);
  };
  if (typeof a !== typeof b) fail(`${typeof a} vs ${typeof b}`);
  if (typeof a !== 'object' || a === null || b === null) {
    if (!Object.is(a, b)) fail(`${String(a)} vs ${String(b)}`);
    return;
  }
  if (map.has(a) || back.has(b)) {
    if (map.get(a) !== b) fail('different sharing');
    return;
  }
  map.set(a, b);
  back.set(b, a);
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) fail('different prototypes');
  const rec = (x, y, p) => sameGraph(x, y, `${path}${p}`, map, back);
  if (a instanceof Date) {
    if (!Object.is(a.getTime(), b.getTime())) fail('different dates');
  } else if (a instanceof ArrayBuffer) {
    if (!Buffer.from(a).equals(Buffer.from(b))) fail('different bytes');
  } else if (a instanceof TA || a instanceof DataView) {
    if (a.byteOffset !== b.byteOffset || a.byteLength !== b.byteLength) fail('different view');
    rec(a.buffer, b.buffer, '.buffer');
  } else if (a instanceof Map) {
    const ea = [...a];
    const eb = [...b];
    if (ea.length !== eb.length) fail('different sizes');
    ea.forEach((e, i) => {
      rec(e[0], eb[i][0], `.key${i}`);
      rec(e[1], eb[i][1], `.get(${i})`);
    });
  } else if (a instanceof Set) {
    const ea = [...a];
    const eb = [...b];
    if (ea.length !== eb.length) fail('different sizes');
    ea.forEach((e, i) => rec(e, eb[i], `.item${i}`));
  } else if (a instanceof Number || a instanceof String || a instanceof Boolean ||
             a instanceof BigInt) {
    if (!Object.is(a.valueOf(), b.valueOf())) fail('different wrapped values');
  } else {
    if (Array.isArray(a) && a.length !== b.length) fail('different lengths');
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.join('\u0000') !== kb.join('\u0000')) fail(`keys ${ka} vs ${kb}`);
    for (const k of ka) rec(a[k], b[k], `[${JSON.stringify(k)}]`);
  }
}

// xorshift32: failures reproduce from the seed.
function generator(seed) {
  let s = seed >>> 0 || 1;
  const rnd = (n) => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s % n;
  };
  const pick = (xs) => xs[rnd(xs.length)];

  const SMIS = [0, 1, -1, 63, 64, -64, -65, 8191, 8192, 2 ** 30, 2 ** 31 - 1, -(2 ** 31)];
  const DOUBLES = [-0, 0.5, -1.25, NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31) - 1, 2 ** 53,
                   Number.MAX_VALUE, Number.MIN_VALUE, 1e21, 0.1];
  // `| 0` makes a Smi: integer results of double arithmetic are HeapNumbers in V8, which it
  // writes as `N` (a representation JS cannot see).
  const smi = () => (rnd(3) ? pick(SMIS) | 0 : (rnd(2 ** 31) - 2 ** 30) | 0);
  const double = () => (rnd(2) ? pick(DOUBLES) : (rnd(1e9) + 0.5) / (1 + rnd(1000)));
  const POOLS = [[0x20, 0x7e], [0x80, 0xff], [0x100, 0x7ff], [0xd800, 0xdfff], [0xe000, 0xffff]];
  const string = () => {
    const len = pick([0, 1, 2, 5, 47, 48, 63, 64, 127, 128, 300, 5000, rnd(3) ? 7 : 70000]);
    const mix = rnd(3) === 0 ? [pick(POOLS)] : rnd(2) ? POOLS.slice(0, 2) : POOLS;
    let out = '';
    for (let i = 0; i < len; i++) {
      const [lo, hi] = pick(mix);
      out += String.fromCharCode(lo + rnd(hi - lo + 1));
    }
    return out;
  };
  const bigint = () => {
    const bits = pick([0, 1, 63, 64, 65, 127, 128, 200, 1000, 4000]);
    let v = 0n;
    for (let i = 0; i < bits; i += 30) v = (v << 30n) | BigInt(rnd(2 ** 30));
    if (bits > 0) v |= 1n << BigInt(bits - 1);
    return rnd(2) ? -v : v;
  };
  // Keys say what their values hold, so that V8's hidden classes never turn an int field into
  // a double field (V8 then writes the int as `N`, a representation choice JS cannot see).
  const KEYS = ['a', 'b', 'ab', '0', '1', '7', '10', '4294967294', '4294967295', '01', '-1',
                '1.5', 'é', '€', '😀', '\uD800', 'x'.repeat(40), '__proto__x'];
  const VIEWS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array,
                 Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array, DataView];

  let pool = []; // objects made so far in this value, for shared references and cycles
  const view = () => {
    const C = pick(VIEWS);
    const each = C.BYTES_PER_ELEMENT || 1;
    const shared = pool.find((o) => o instanceof ArrayBuffer && o.byteLength % 8 === 0);
    const ab = shared && rnd(2) ? shared : new ArrayBuffer(8 * (1 + rnd(4)));
    new Uint8Array(ab).forEach((_, i, u) => { u[i] = rnd(256); });
    const off = each * rnd(ab.byteLength / each);
    const len = rnd((ab.byteLength - off) / each + 1);
    const v = C === DataView ? new DataView(ab, off, len) : new C(ab, off, len);
    pool.push(ab, v);
    return v;
  };
  const value = (depth) => {
    const k = rnd(depth > 3 ? 9 : 24);
    switch (k) {
      case 0: return smi();
      case 1: return double();
      case 2: return string();
      case 3: return pick([undefined, null, true, false]);
      case 4: return bigint();
      case 5: return pool.length ? pick(pool) : null; // shared reference (or a cycle)
      case 6: return new Date(pick([0, -1, 1.7e12, NaN, 8.64e15, -8.64e15]));
      case 7: return pick([Object(smi()), Object(double()), Object(string()), Object(true),
                           Object(false), Object(bigint())]);
      case 8: return view();
      case 9: case 10: case 11: case 12: {
        const o = rnd(8) ? {} : Object.create(null);
        pool.push(o);
        const n = rnd(6);
        for (let i = 0; i < n; i++) {
          const key = pick(KEYS);
          const kind = rnd(3);
          // int-valued and double-valued fields never share a key name
          if (kind === 0) o[`i${key}`] = smi();
          else if (kind === 1) o[`d${key}`] = double();
          else o[key] = nonNumber(depth + 1);
        }
        return o;
      }
      case 13: case 14: case 15: {
        // One array literal per kind: V8 remembers per literal site the elements kind its
        // arrays reached and starts new ones there (a representation JS cannot see).
        const n = rnd(7);
        const kind = rnd(3);
        let a;
        if (kind === 0) {
          a = [];
          for (let i = 0; i < n; i++) a.push(smi());
        } else if (kind === 1) {
          a = [];
          for (let i = 0; i < n; i++) a.push(i === 0 ? double() : rnd(2) ? smi() : double());
        } else {
          // mixed: a non-number first, so that V8 never held these numbers as doubles
          a = [];
          pool.push(a);
          a.push(nonNumber(depth + 1));
          for (let i = 1; i < n; i++) a.push(value(depth + 1));
          return a;
        }
        pool.push(a);
        return a;
      }
      case 16: case 17: {
        const m = new Map();
        pool.push(m);
        const n = rnd(5);
        for (let i = 0; i < n; i++) m.set(value(depth + 1), value(depth + 1));
        return m;
      }
      case 18: {
        const s = new Set();
        pool.push(s);
        const n = rnd(5);
        for (let i = 0; i < n; i++) s.add(value(depth + 1));
        return s;
      }
      case 19: {
        const ab = new ArrayBuffer(1 + rnd(40));
        new Uint8Array(ab).forEach((_, i, u) => { u[i] = rnd(256); });
        pool.push(ab);
        return ab;
      }
      case 20: {
        // a cycle through an ancestor
        const o = { up: null };
        pool.push(o);
        o.up = pool.length > 1 ? pick(pool) : o;
        o.self = o;
        return o;
      }
      default: return value(depth + 1);
    }
  };
  const nonNumber = (depth) => {
    for (;;) {
      const v = value(depth);
      if (typeof v !== 'number') return v;
    }
  };
  return {
    rnd,
    value() {
      pool = [];
      return value(0);
    },
  };
}

module.exports = { v8Bytes, v8Read, sameGraph, generator };
