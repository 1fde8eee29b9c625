'use strict';
// The differential suite: every scenario in diff/scenarios runs once with Node's built-in
// worker_threads MessageChannel and once with ours, each in its own child process (process
// exit is part of the behaviour); the recorded event traces must be identical, except for the
// documented lines in diff/allowed.json.
const { test } = require('node:test');
const assert = require('node:assert');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const dir = path.join(__dirname, 'diff', 'scenarios');
const runner = path.join(__dirname, 'diff', 'runner.js');
const allowed = require('./diff/allowed.json');
const scenarios = fs.readdirSync(dir).filter((f) => f.endsWith('.js')).sort();

function trace(impl, file) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [runner, impl, path.join(dir, file)], { timeout: 20000 },
             (err, stdout, stderr) => {
               if (err) return reject(new Error(`${impl} ${file}: ${err.message}\n${stderr}`));
               resolve(JSON.parse(stdout.trim().split('\n').pop()));
             });
  });
}

test('at least 25 scenarios', () => {
  assert.ok(scenarios.length >= 25, `${scenarios.length} scenarios`);
});

for (const file of scenarios) {
  const name = file.replace(/\.js$/, '');
  test(`same trace as Node's built-in: ${name}`, async () => {
    const [builtin, ours] = await Promise.all([trace('builtin', file), trace('ours', file)]);
    let mine = ours;
    const allow = allowed[name];
    if (allow) {
      for (const line of allow.extraInOurs) {
        const i = mine.indexOf(line);
        assert.ok(i >= 0, `allow-listed line "${line}" (${allow.reason}) no longer appears: ` +
                  'remove it from diff/allowed.json');
        mine = mine.slice(0, i).concat(mine.slice(i + 1));
      }
    }
    assert.deepStrictEqual(mine, builtin);
  });
}
