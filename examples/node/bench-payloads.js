'use strict';
// What the Node benchmarks send, in one place so every table measures the same shapes: a small
// object, a nested record (an object with a nested object, an array of 5 small objects and a
// boolean), plus the median every table reports.

/** `{ id, name, tags }`: the small object of every table. */
const small = (i) => ({ id: i, name: 'item', tags: [1, 2, 3] });

/** A nested record. */
const nested = (i) => ({
  id: i,
  owner: { name: 'Ada', email: 'ada@example.org', since: 1815 },
  items: [1, 2, 3, 4, 5].map((k) => ({ sku: `A-${k}`, qty: k, price: 9.5 })),
  paid: true,
});

/** The median of a list of numbers (the upper one of an even count). */
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

module.exports = { small, nested, median };
