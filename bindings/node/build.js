'use strict';
// The package's install script (`npm install ./bindings/node`, or `npm install` inside it):
// builds the napi-rs addon from this repository's Rust sources with cargo and copies it to
// `webmessaging.node`, where index.js looks for it. Nothing is downloaded but crates (by cargo,
// from the sources named in Cargo.lock).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const targetDir = process.env.CARGO_TARGET_DIR || path.join(root, 'target', 'node');
const cargo = process.env.CARGO || 'cargo';

if (!fs.existsSync(path.join(root, 'Cargo.toml'))) {
  console.error(`webmessaging: no Cargo workspace at ${root}; install from a checkout of the repository`);
  process.exit(1);
}
const r = spawnSync(cargo, ['build', '--release', '-p', 'webmessaging-node'], {
  cwd: root, stdio: 'inherit', env: { ...process.env, CARGO_TARGET_DIR: targetDir },
});
if (r.error) {
  console.error(`webmessaging: could not run ${cargo} (${r.error.message}); install Rust from https://rustup.rs`);
  process.exit(1);
}
if (r.status !== 0) process.exit(r.status === null ? 1 : r.status);
const built = { linux: 'libwebmessaging_node.so', darwin: 'libwebmessaging_node.dylib', win32: 'webmessaging_node.dll' }[process.platform] ||
  'libwebmessaging_node.so';
fs.copyFileSync(path.join(targetDir, 'release', built), path.join(__dirname, 'webmessaging.node'));
console.log('webmessaging: built webmessaging.node');
