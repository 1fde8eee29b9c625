'use strict';
// The JS decoder's key lists ("shapes"): an object's keys are matched in place against the keys
// seen before after the same prefix. Whatever the mix of key lists, first keys, key encodings
// and lengths, each message reads as V8 reads it, again and again.
const { test } = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { PKG } = require('./helpers');
const { v8Bytes, v8Read, sameGraph } = require('./codec-support');
const codec = require(path.join(PKG, 'codec.js'));

test('many first keys after one prefix, of every encoding and length, read as V8 reads them', () => {
  const long = 'k'.repeat(127);
  const longer = 'k'.repeat(128);
  const keys = ['id', 'name', 'sku', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'é', 'κλειδί', '😀', '',
                '1', '01', '4294967295', '4294967294', '-0', '__proto__', long, longer, `${long}é`];
  const values = [];
  for (const k of keys) {
    for (const k2 of ['x', k, 'id', '__proto__']) {
      const o = JSON.parse(JSON.stringify({ [k]: 1 }));
      if (k2 !== k) Object.defineProperty(o, k2, { value: [k2], enumerable: true, configurable: true, writable: true });
      values.push(o, { wrap: o, list: [o, { [k]: 'again' }] });
    }
  }
  // Interleaved, several rounds: each value's key list is seen before and after the others.
  for (let round = 0; round < 4; round++) {
    for (const v of values) {
      const bytes = v8Bytes(v);
      const got = codec.decode(bytes, 0, bytes.length, null, null);
      assert.notStrictEqual(got, codec.NOT_FAST, JSON.stringify(Object.keys(v)));
      sameGraph(got, v8Read(bytes));
      for (const k of Object.keys(got)) {
        assert.ok(Object.prototype.hasOwnProperty.call(got, k));
      }
    }
  }
});
