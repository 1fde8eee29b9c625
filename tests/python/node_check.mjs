// Reads JSON lines {hex, check} on stdin; for each, Node's v8.Deserializer reads the bytes,
// `check` (a JS arrow function source) is applied to the value, and the value is written back
// with v8.Serializer. Prints JSON lines {ok, check, hex, error}.
import v8 from 'node:v8';
import readline from 'node:readline';

const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) continue;
  const { hex, check } = JSON.parse(line);
  const out = { ok: false };
  try {
    const d = new v8.Deserializer(Buffer.from(hex, 'hex'));
    d.readHeader();
    const value = d.readValue();
    out.ok = true;
    out.check = check ? Boolean((0, eval)(check)(value)) : true;
    const s = new v8.Serializer();
    s.writeHeader();
    s.writeValue(value);
    out.hex = s.releaseBuffer().toString('hex');
  } catch (e) {
    out.error = String(e && e.stack || e);
  }
  console.log(JSON.stringify(out));
}
