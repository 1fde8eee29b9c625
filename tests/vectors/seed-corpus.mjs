// Writes every golden vector as a file into the given directory: the seed corpus of `make fuzz-codec`.
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
const here = path.dirname(new URL(import.meta.url).pathname);
const { vectors } = JSON.parse(fs.readFileSync(path.join(here, 'v8-vectors.json'), 'utf8'));
fs.mkdirSync(dir, { recursive: true });
vectors.forEach((v, i) => fs.writeFileSync(path.join(dir, `vector-${String(i).padStart(3, '0')}`), Buffer.from(v.hex, 'hex')));
console.log(`${vectors.length} seeds in ${dir}`);
