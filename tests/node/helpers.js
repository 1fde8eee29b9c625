'use strict';
const path = require('node:path');
const { execFile } = require('node:child_process');

const ROOT = path.join(__dirname, '..', '..');
const PKG = path.join(ROOT, 'bindings', 'node');

// Runs `code` in a child node process (with `wm` = our package) and resolves with how it ended.
function runChild(code, { timeout = 10000, args = [] } = {}) {
  const src = `const wm = require(${JSON.stringify(PKG)});\n${code}`;
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [...args, "-e", src], { timeout, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      resolve({
        code: err ? (err.killed ? 'killed' : err.code) : 0,
        stdout,
        stderr,
        ms: Date.now() - started,
      });
    });
  });
}

module.exports = { ROOT, PKG, runChild };
