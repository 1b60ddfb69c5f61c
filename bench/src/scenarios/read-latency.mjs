// @ts-check
// Scenario 5b: /stats, /tasks?limit=100 and a Prometheus scrape of /metrics must cost the same
// with a million tasks as with ten thousand (the scrape reads the store's counts, which do not
// grow with the tasks). One proxy is filled step by step (zero-latency target, high concurrency,
// small results so a million fit comfortably), and at each step every read is timed one at a
// time on an otherwise idle proxy.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { now, openPool, runConcurrently } from '../load.mjs';
import { startPageServer, startProxy, startTarget } from '../processes.mjs';
import { submitTask, waitForFinished } from '../proxy-api.mjs';
import { percentile } from '../stats.mjs';

/** @typedef {import('../scenario.d.ts').Scenario} Scenario */
/** @typedef {import('../aggregate.mjs').RowSpec} RowSpec */
/** @typedef {import('undici').Pool} Pool */

const FLAT_FACTOR = 2;
const SUBMITTERS = 128;
/** The list read, whose page also gets its floor (`floorP99`). */
const LIST = '/tasks?limit=100';
/** The reads timed, each with the p99 it must stay under (ms). */
export const READS = [
  { key: 'stats', path: '/stats', limitMs: 5 },
  { key: 'tasks', path: LIST, limitMs: 5 },
  { key: 'metrics', path: '/metrics', limitMs: 10 },
];
/** @param {boolean} quick */
const sizes = (quick) =>
  quick
    ? { levels: [1_000, 10_000], samples: 200, warmupReads: 50 }
    : { levels: [10_000, 100_000, 1_000_000], samples: 1_000, warmupReads: 200 };

/** @param {number} n */
const short = (n) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1_000}k`);

/**
 * The proxy flags that keep every task (no cap, no retention) with room for `queueSize` queued,
 * at a concurrency that fills the store fast from a zero-latency target.
 * @param {number} queueSize
 */
export const holdingEveryTask = (queueSize) => [
  '--max-concurrent',
  '64',
  '--num-workers',
  '64',
  '--max-queue-size',
  String(queueSize),
  '--retention',
  '0',
  '--max-tasks',
  '0',
];

/**
 * The times (ms) of `samples` sequential reads of `path`, after `warmupReads` unmeasured ones.
 * @param {Pool} pool
 * @param {string} path
 * @param {{ samples: number, warmupReads: number }} counts
 */
export async function readTimes(pool, path, { samples, warmupReads }) {
  /** @type {number[]} */
  const times = [];
  for (let i = 0; i < warmupReads + samples; i++) {
    const t0 = now();
    const res = await pool.request({ path, method: 'GET' });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`GET ${path}: ${res.statusCode}`);
    if (i >= warmupReads) times.push(now() - t0);
  }
  return times;
}

/**
 * p50 and p99 of `samples` sequential reads of `path`, after `warmupReads` unmeasured ones.
 * @param {Pool} pool
 * @param {string} path
 * @param {{ samples: number, warmupReads: number }} counts
 */
export async function timeReads(pool, path, counts) {
  const times = await readTimes(pool, path, counts);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

/**
 * The bytes of one answer to `path`.
 * @param {Pool} pool
 * @param {string} path
 */
export async function answerBytes(pool, path) {
  const res = await pool.request({ path, method: 'GET' });
  return Buffer.from(await res.body.arrayBuffer());
}

/**
 * p99 of reading `page` (a page the proxy served) the same way from a server that does nothing
 * else: the least any server could take for that many bytes on this machine.
 * @param {Buffer} page
 * @param {string} path
 * @param {{ samples: number, warmupReads: number }} counts
 */
export async function floorP99(page, path, counts) {
  const dir = await mkdtemp(join(tmpdir(), 'bench-page-'));
  const file = join(dir, 'page.json');
  await writeFile(file, page);
  const server = await startPageServer(file);
  const reader = openPool(server.url, 1);
  try {
    return (await timeReads(reader, path, counts)).p99;
  } finally {
    await reader.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** @param {number[]} levels */
function rowsFor(levels) {
  const largest = /** @type {number} */ (levels[levels.length - 1]);
  const smallest = /** @type {number} */ (levels[0]);
  /** @type {RowSpec[]} */
  const rows = [];
  for (const { key: read, path, limitMs } of READS) {
    for (const level of levels) {
      rows.push({
        id: `${read}-p50-${level}`,
        label: `${path} p50 at ${short(level)} tasks`,
        measure: `${read}_p50_ms_${level}`,
        unit: 'ms',
      });
      rows.push({
        id: `${read}-${level}`,
        label: `${path} p99 at ${short(level)} tasks`,
        measure: `${read}_p99_ms_${level}`,
        unit: 'ms',
        limit: { label: 'ceiling', value: limitMs },
        ...(level === largest && { target: { on: 'ratio', op: '<=', value: 1 } }),
      });
    }
    rows.push({
      id: `${read}-growth`,
      label: `${path} p99 growth ${short(smallest)} → ${short(largest)}`,
      measure: `${read}_growth`,
      unit: '×',
      target: { on: 'figure', op: '<=', value: FLAT_FACTOR },
    });
    if (read === 'tasks') {
      rows.push({
        id: 'tasks-floor',
        label: `the same ${path} page from a bare node:http server that keeps its bytes: p99`,
        measure: 'tasks_floor_p99_ms',
        unit: 'ms',
        limit: { label: 'ceiling', value: limitMs },
      });
    }
  }
  return rows;
}

/** @type {Scenario} */
export const readLatency = {
  id: 'read-latency',
  title: '5b. /stats, /tasks and /metrics latency as the store grows',
  describe(quick) {
    const { levels, samples, warmupReads } = sizes(quick);
    return (
      `One proxy (memory store, --max-concurrent 64 --num-workers 64, old space 8 GiB) filled ` +
      `to ${levels.map(short).join(', ')} finished tasks (GET /api/function1 on a ` +
      `zero-latency target, ${SUBMITTERS} submitters); at each step ${samples.toLocaleString('en-US')} ` +
      `sequential reads of each endpoint after ${warmupReads} unmeasured ones; then as many of ` +
      'the last /tasks page, its bytes served by a bare node:http server on the same CPU once ' +
      'the proxy has stopped (the floor for that size of answer on this machine). "Flat" is ' +
      `read as p99 at the largest store ≤ ${FLAT_FACTOR} × p99 at the smallest.`
    );
  },
  rows: (quick) => rowsFor(sizes(quick).levels),
  async start(ctx) {
    const { levels, ...counts } = sizes(ctx.quick);
    const target = await startTarget();
    return {
      unavailable: {},
      async runOnce() {
        const largest = /** @type {number} */ (levels[levels.length - 1]);
        const proxy = await startProxy({
          target,
          args: holdingEveryTask(largest),
          profileDir: ctx.profileDir,
          heapMiB: 8192,
        });
        const pool = openPool(proxy.url, SUBMITTERS);
        const reader = openPool(proxy.url, 1);
        /** @type {Record<string, number>} */
        const measures = {};
        let page = Buffer.alloc(0);
        try {
          let filled = 0;
          for (const level of levels) {
            const started = now();
            await runConcurrently(level - filled, SUBMITTERS, () =>
              submitTask(pool, '/api/function1', { method: 'GET' }),
            );
            await waitForFinished(pool, level, { timeoutMs: 1_800_000, intervalMs: 200 });
            filled = level;
            for (const { key: read, path } of READS) {
              const { p50, p99 } = await timeReads(reader, path, counts);
              measures[`${read}_p50_ms_${level}`] = p50;
              measures[`${read}_p99_ms_${level}`] = p99;
            }
            ctx.log(
              `read latency at ${short(level)} (filled in ${((now() - started) / 1000).toFixed(1)} s): ` +
                `/stats p99 ${measures[`stats_p99_ms_${level}`]?.toFixed(2)} ms, ` +
                `/tasks p99 ${measures[`tasks_p99_ms_${level}`]?.toFixed(2)} ms, ` +
                `/metrics p99 ${measures[`metrics_p99_ms_${level}`]?.toFixed(2)} ms`,
            );
          }
          for (const { key: read } of READS) {
            const first = /** @type {number} */ (measures[`${read}_p99_ms_${levels[0]}`]);
            const last = /** @type {number} */ (measures[`${read}_p99_ms_${largest}`]);
            measures[`${read}_growth`] = last / first;
          }
          page = await answerBytes(reader, LIST);
        } finally {
          await Promise.all([pool.close(), reader.close()]);
          await proxy.stop();
        }
        // With the proxy gone, so that its collector's idle-time work cannot weigh on the floor.
        measures.tasks_floor_p99_ms = await floorP99(page, LIST, counts);
        return measures;
      },
      stop: () => target.stop(),
    };
  },
};
