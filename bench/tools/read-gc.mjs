#!/usr/bin/env node
// @ts-check
// `node bench/tools/read-gc.mjs [tasks] [path] [--store memory|sqlite]`: why a read's p99 sits
// far above its p50. Fills a proxy (started with --trace-gc) with that many finished tasks with
// 1 KB results, then times 1,000 sequential GETs of the path (default /tasks?limit=100) after
// 200 unmeasured ones, and prints the latencies beside the collector's pauses during the reads:
// how many scavenges and mark-compacts, and how long each took.
import { parseArgs } from 'node:util';
import { openPool, runConcurrently } from '../src/load.mjs';
import { startProxy, startTarget } from '../src/processes.mjs';
import { submitTask, waitForFinished } from '../src/proxy-api.mjs';
import { holdingEveryTask, readTimes } from '../src/scenarios/read-latency.mjs';
import { percentile } from '../src/stats.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { store: { type: 'string', default: 'memory' } },
});
const count = Number(positionals[0] ?? 100_000);
const path = positionals[1] ?? '/tasks?limit=100';
const store = /** @type {'memory' | 'sqlite'} */ (values.store);
const READS = 1_000;
const GC_LINE = /(\d+) ms: (Scavenge|Mark-Compact)[^,]*, ([\d.]+) \/ [\d.]+ ms/g;
const WARMUP_READS = 200;

const target = await startTarget();
const proxy = await startProxy({
  target,
  store,
  nodeFlags: ['--trace-gc'],
  heapMiB: 8192,
  args: holdingEveryTask(count),
}).catch(async (error) => {
  await target.stop();
  throw error;
});
const pool = openPool(proxy.url, 64);
const reader = openPool(proxy.url, 1);
try {
  await runConcurrently(count, 64, () =>
    submitTask(pool, '/api/size?bytes=1013', { method: 'GET' }),
  );
  await waitForFinished(pool, count, { timeoutMs: 600_000, intervalMs: 200 });
  await readTimes(reader, path, { samples: 0, warmupReads: WARMUP_READS });
  // Trace lines carry the proxy's own clock ("1234 ms: Scavenge ..."): the reads' pauses are
  // those after the last one before them (the fill phase always collects).
  const gcLines = () => [...proxy.output().matchAll(GC_LINE)];
  const before = Number(gcLines().at(-1)?.[1] ?? 0);
  const times = await readTimes(reader, path, { samples: READS, warmupReads: 0 });
  const pauses = gcLines()
    .filter((match) => Number(match[1]) > before)
    .map((match) => ({ kind: String(match[2]), ms: Number(match[3]) }));
  times.sort((a, b) => a - b);
  const ms = (/** @type {number} */ v) => `${v.toFixed(2)} ms`;
  console.log(
    `${path} with ${count.toLocaleString('en-US')} tasks (${store}): p50 ${ms(percentile(times, 50))}, ` +
      `p90 ${ms(percentile(times, 90))}, p99 ${ms(percentile(times, 99))}, max ${ms(times.at(-1) ?? 0)}`,
  );
  for (const [kind, name] of [
    ['Scavenge', 'scavenges'],
    ['Mark-Compact', 'mark-compacts'],
  ]) {
    const of = pauses.filter((pause) => pause.kind === kind).map((pause) => pause.ms);
    if (of.length === 0) continue;
    of.sort((a, b) => a - b);
    console.log(
      `  ${of.length} ${name} during ${READS} reads: p50 ${ms(percentile(of, 50))}, max ${ms(of.at(-1) ?? 0)}`,
    );
  }
} finally {
  await Promise.all([pool.close(), reader.close()]);
  await proxy.stop();
  await target.stop();
}
