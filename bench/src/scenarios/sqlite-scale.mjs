// @ts-check
// Scenario 5c: the SQLite store at scale. The proxy keeps its finished tasks in the file, not in
// memory, so its RSS must stay flat as they pile up, /stats and /tasks must cost the same with a
// million as with a hundred thousand, and a restart on a file of a million tasks must be ready
// to serve within seconds.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { now, openPool, runConcurrently } from '../load.mjs';
import { startProxy, startTarget } from '../processes.mjs';
import { getStats, submitTask, waitForFinished } from '../proxy-api.mjs';
import { settledRss } from './memory.mjs';
import { READS, timeReads } from './read-latency.mjs';

/** @typedef {import('../scenario.d.ts').Scenario} Scenario */
/** @typedef {import('../aggregate.mjs').RowSpec} RowSpec */

const READ_LIMIT_MS = 5;
const RSS_FLAT_FACTOR = 1.1;
const RESTART_LIMIT_S = 5;
const SUBMITTERS = 128;
/** @param {boolean} quick */
const sizes = (quick) =>
  quick
    ? { levels: [10_000, 50_000], samples: 200, warmupReads: 50, settleMs: 1_000 }
    : { levels: [100_000, 1_000_000], samples: 1_000, warmupReads: 200, settleMs: 3_000 };

/** @param {number} n */
const short = (n) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1_000}k`);

/** @param {number[]} levels */
function rowsFor(levels) {
  const smallest = /** @type {number} */ (levels[0]);
  const largest = /** @type {number} */ (levels[levels.length - 1]);
  /** @type {RowSpec[]} */
  const rows = levels.map((level) => ({
    id: `rss-${level}`,
    label: `RSS with ${short(level)} finished tasks in the file`,
    measure: `rss_mib_${level}`,
    unit: 'MiB',
  }));
  rows.push({
    id: 'rss-growth',
    label: `RSS growth ${short(smallest)} → ${short(largest)} finished tasks`,
    measure: 'rss_growth',
    unit: '×',
    target: { on: 'figure', op: '<=', value: RSS_FLAT_FACTOR },
  });
  for (const { key: read, path } of READS) {
    for (const level of levels) {
      rows.push({
        id: `${read}-${level}`,
        label: `${path} p99 at ${short(level)} tasks`,
        measure: `${read}_p99_ms_${level}`,
        unit: 'ms',
        limit: { label: 'ceiling', value: READ_LIMIT_MS },
        ...(level === largest && { target: { on: 'ratio', op: '<=', value: 1 } }),
      });
    }
  }
  rows.push({
    id: 'fill-rate',
    label: 'filling: tasks submitted, run and stored per second',
    measure: 'fill_tps',
    unit: '/s',
  });
  rows.push({
    id: 'restart',
    label: `restart on ${short(largest)} tasks: from spawn to the first answered /stats`,
    measure: 'restart_s',
    unit: 's',
    limit: { label: 'ceiling', value: RESTART_LIMIT_S },
    target: { on: 'ratio', op: '<=', value: 1 },
  });
  return rows;
}

/** @type {Scenario} */
export const sqliteScale = {
  id: 'sqlite-scale',
  title: '5c. The SQLite store at scale: memory, reads and restart',
  describe(quick) {
    const { levels, samples, settleMs } = sizes(quick);
    return (
      `One proxy on the SQLite store (the default; --max-concurrent 64 --num-workers 64) filled ` +
      `to ${levels.map(short).join(', ')} finished tasks (GET /api/function1 on a zero-latency ` +
      `target, ${SUBMITTERS} submitters). At each step: its RSS once steady for ` +
      `${settleMs / 1000} s, then ${samples.toLocaleString('en-US')} sequential reads of /stats ` +
      `and of /tasks?limit=100. Then SIGTERM, and a new proxy on the same data dir: the time ` +
      'from spawning it to its first answered /stats. A fresh data dir each run.'
    );
  },
  rows: (quick) => rowsFor(sizes(quick).levels),
  async start(ctx) {
    const { levels, settleMs, ...counts } = sizes(ctx.quick);
    const largest = /** @type {number} */ (levels[levels.length - 1]);
    const target = await startTarget();
    const proxyArgs = [
      '--max-concurrent',
      '64',
      '--num-workers',
      '64',
      '--max-queue-size',
      String(largest),
      '--retention',
      '0',
      '--max-tasks',
      '0',
    ];
    return {
      unavailable: {},
      async runOnce() {
        const dataDir = await mkdtemp(join(tmpdir(), 'bench-sqlite-scale-'));
        try {
          /** @type {Record<string, number>} */
          const measures = {};
          let proxy = await startProxy({ target, args: proxyArgs, store: 'sqlite', dataDir });
          const pool = openPool(proxy.url, SUBMITTERS);
          const reader = openPool(proxy.url, 1);
          try {
            let filled = 0;
            const fillStarted = now();
            for (const level of levels) {
              await runConcurrently(level - filled, SUBMITTERS, () =>
                submitTask(pool, '/api/function1', { method: 'GET' }),
              );
              await waitForFinished(pool, level, { timeoutMs: 3_600_000, intervalMs: 200 });
              filled = level;
              if (level === largest) measures.fill_tps = level / ((now() - fillStarted) / 1000);
              measures[`rss_mib_${level}`] = (await settledRss(proxy.pid, settleMs)) / 2 ** 20;
              for (const { key: read, path } of READS) {
                const { p99 } = await timeReads(reader, path, counts);
                measures[`${read}_p99_ms_${level}`] = p99;
              }
              ctx.log(
                `sqlite-scale at ${short(level)}: RSS ${measures[`rss_mib_${level}`]?.toFixed(0)} MiB, ` +
                  `/stats p99 ${measures[`stats_p99_ms_${level}`]?.toFixed(2)} ms, ` +
                  `/tasks p99 ${measures[`tasks_p99_ms_${level}`]?.toFixed(2)} ms`,
              );
            }
          } finally {
            await Promise.all([pool.close(), reader.close()]);
            await proxy.stop();
          }
          const smallest = /** @type {number} */ (levels[0]);
          measures.rss_growth =
            /** @type {number} */ (measures[`rss_mib_${largest}`]) /
            /** @type {number} */ (measures[`rss_mib_${smallest}`]);

          const spawned = now();
          proxy = await startProxy({ target, args: proxyArgs, store: 'sqlite', dataDir });
          const again = openPool(proxy.url, 1);
          try {
            const stats = await getStats(again);
            measures.restart_s = (now() - spawned) / 1000;
            if (stats.tasks.total !== largest) {
              throw new Error(
                `after the restart the proxy holds ${stats.tasks.total} tasks, not ${largest}`,
              );
            }
            ctx.log(
              `sqlite-scale: ready ${measures.restart_s.toFixed(2)} s after a restart on ${short(largest)} tasks`,
            );
          } finally {
            await again.close();
            await proxy.stop();
          }
          return measures;
        } finally {
          await rm(dataDir, { recursive: true, force: true });
        }
      },
      stop: () => target.stop(),
    };
  },
};
