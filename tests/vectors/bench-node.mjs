// Node's side of `make bench-codec`: v8.serialize / v8.deserialize throughput for the same values
// the Rust benchmark uses. Prints one JSON object: {workload: {encode_ops, decode_ops, bytes}}.
import v8 from 'node:v8';

const record = (i) => ({ id: i, name: 'name' + i, tags: [1, 2, 3] });
const workloads = {
  record: record(1),
  records_10k: Array.from({ length: 10000 }, (_, i) => record(i)),
  arraybuffer_1mib: new Uint8Array(1 << 20).map((_, i) => i & 255).buffer,
};

// Median ops/s of 5 samples of ~200 ms each.
function rate(fn) {
  const samples = [];
  for (let s = 0; s < 5; s++) {
    let n = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0n;
    while (elapsed < 200_000_000n) {
      for (let k = 0; k < 8; k++) fn();
      n += 8;
      elapsed = process.hrtime.bigint() - start;
    }
    samples.push(n / (Number(elapsed) / 1e9));
  }
  samples.sort((a, b) => a - b);
  return samples[2];
}

const out = {};
for (const [name, value] of Object.entries(workloads)) {
  const bytes = v8.serialize(value);
  let sink = 0;
  const encode_ops = rate(() => { sink += v8.serialize(value).length; });
  const decode_ops = rate(() => { sink += v8.deserialize(bytes) ? 1 : 0; });
  out[name] = { encode_ops, decode_ops, bytes: bytes.length, sink };
}
process.stdout.write(JSON.stringify(out) + '\n');
