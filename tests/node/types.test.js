'use strict';
// index.d.ts drift check: every runtime export of the package (CommonJS and ESM) and every
// MessagePort method is declared in the committed types, and nothing declared is missing.
const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { PKG } = require('./helpers');
const wm = require(PKG);

const dts = fs.readFileSync(path.join(PKG, 'index.d.ts'), 'utf8');

function declaredExports() {
  const names = new Set();
  for (const m of dts.matchAll(/^export declare (?:class|function|const) (\w+)/gm)) names.add(m[1]);
  return [...names].sort();
}

function classBody(name) {
  const start = dts.indexOf(`export declare class ${name}`);
  const end = dts.indexOf('\n}', start);
  return dts.slice(start, end);
}

test('every CommonJS export is declared, and every declaration exists', () => {
  assert.deepStrictEqual(Object.keys(wm).sort(), declaredExports());
});

test('ESM named exports match the CommonJS ones', async () => {
  const esm = await import(path.join(PKG, 'index.mjs'));
  const names = Object.keys(esm).filter((k) => k !== 'default').sort();
  assert.deepStrictEqual(names, Object.keys(wm).sort());
  assert.strictEqual(esm.MessageChannel, wm.MessageChannel);
});

test('every public MessagePort method is declared', () => {
  const body = classBody('MessagePort');
  const methods = new Set();
  for (let p = wm.MessagePort.prototype; p && p !== EventTarget.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) if (k !== 'constructor') methods.add(k);
  }
  const missing = [...methods].filter((m) => !new RegExp(`\\b${m}\\b[(:?]`).test(body));
  assert.deepStrictEqual(missing, []);
});
