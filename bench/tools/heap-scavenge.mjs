#!/usr/bin/env node
// @ts-check
// `node --single-threaded-gc --max-old-space-size=8192 --min-semi-space-size=16
// --max-semi-space-size=16 bench/tools/heap-scavenge.mjs [none|map] [objects]`: how long V8's
// young-generation collections take beside a big old generation, with no proxy at all (the
// young generation fixed at the size a busy proxy's grows to, so only the old one differs). Holds that many small task-like objects in a Map (or nothing), then makes the
// same short-lived garbage as a page of /tasks would, and prints the scavenges' p50 and max.
// Scenario 5b's read tails at 1M tasks follow the heap's size, not the proxy's code
// (docs/benchmarks.md, "What the figures say").
import { PerformanceObserver } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { percentile } from '../src/stats.mjs';

const mode = process.argv[2] ?? 'map';
const count = Number(process.argv[3] ?? 1_000_000);
if (mode !== 'map' && mode !== 'none') throw new Error('mode is map or none');
const GC_MINOR = 1;
const ROUNDS = 4_000;

/** @type {Map<string, object>} */
const held = new Map();
if (mode === 'map') {
  for (let i = 0; i < count; i++) {
    const id = `task-${i}-${Math.random().toString(36).slice(2)}`;
    held.set(id, {
      id,
      method: 'GET',
      path: `/api/x?i=${i}`,
      createdAt: Date.now(),
      status: 'completed',
      result: { statusCode: 200, headers: { 'x-i': String(i) }, body: `${'x'.repeat(100)}${i}` },
    });
  }
}

/** @type {number[]} */
const scavenges = [];
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const { detail } = /** @type {{ detail: { kind: number } }} */ (/** @type {unknown} */ (entry));
    if (detail.kind === GC_MINOR) scavenges.push(entry.duration);
  }
});
observer.observe({ entryTypes: ['gc'] });
let page = [];
for (let round = 0; round < ROUNDS; round++) {
  page = Array.from({ length: 100 }, (_, i) => ({
    task_id: `t${i}-${round}`,
    attempts: [i, round],
    created_at: new Date(round).toISOString(),
  }));
  if (round % 50 === 0) await yieldToLoop();
}
await yieldToLoop();
observer.disconnect();
scavenges.sort((a, b) => a - b);
const heapMiB = process.memoryUsage().heapUsed / 2 ** 20;
console.log(
  `${held.size.toLocaleString('en-US')} objects held, ` +
    `heap ${heapMiB.toFixed(0)} MiB: ${scavenges.length} scavenges, p50 ` +
    `${percentile(scavenges, 50).toFixed(2)} ms, max ${(scavenges.at(-1) ?? 0).toFixed(2)} ms ` +
    `(last page ${page.length} objects)`,
);
