// @ts-check
// Scenario 5a: what a finished task costs in resident memory. The proxy's RSS is read from
// /proc before and after N tasks whose results are 1 KB of JSON, once the proxy is idle again.
import { fileURLToPath } from 'node:url';
import { openPool, runConcurrently, sleep } from '../load.mjs';
import { rssBytes } from '../proc-stats.mjs';
import { startProxy, startTarget } from '../processes.mjs';
import { submitTask, waitForFinished } from '../proxy-api.mjs';

/** @typedef {import('../scenario.d.ts').Scenario} Scenario */

const LIMIT_BYTES_PER_TASK = 4 * 1024;
/** `{"data":"` + 1,013 characters + `"}` = a 1,024-byte JSON result. */
const RESULT_PATH = '/api/size?bytes=1013';
const SUBMITTERS = 64;
/** @param {boolean} quick */
const sizes = (quick) =>
  quick
    ? { count: 5_000, warmup: 500, settleMs: 1_000 }
    : { count: 100_000, warmup: 2_000, settleMs: 3_000 };
/** Longest wait for the RSS to stop moving after a burst. */
const SETTLE_MAX_MS = 15_000;
const SETTLE_POLL_MS = 250;
/** Preload that runs full collections on SIGUSR2 (bench/servers/gc-on-signal.cjs). */
const GC_ON_SIGNAL = fileURLToPath(new URL('../../servers/gc-on-signal.cjs', import.meta.url));

/**
 * Full collections in the proxy, then its settled RSS. Without them the reading holds whatever
 * garbage the old generation still had: the same 100k tasks read about 270 MiB after a
 * mark-compact and 350-460 MiB before one, depending on whether V8's memory reducer had yet run.
 * @param {number} pid
 * @param {number} settleMs
 */
async function collectedRss(pid, settleMs) {
  process.kill(pid, 'SIGUSR2');
  await sleep(500);
  return settledRss(pid, settleMs);
}

/**
 * The RSS once the process has been idle for at least `settleMs` and its RSS has not moved by
 * more than 1% over the last `settleMs` (the collector runs some time after a burst ends, and
 * reading before it does made runs disagree by 40%), or after SETTLE_MAX_MS.
 * @param {number} pid
 * @param {number} settleMs
 */
export async function settledRss(pid, settleMs) {
  const started = Date.now();
  /** @type {Array<{ at: number, rss: number }>} */
  const readings = [];
  for (;;) {
    const at = Date.now();
    readings.push({ at, rss: await rssBytes(pid) });
    const recent = readings.filter((r) => r.at >= at - settleMs).map((r) => r.rss);
    const steady = Math.max(...recent) - Math.min(...recent) <= Math.max(...recent) * 0.01;
    if ((at - started >= settleMs && steady) || at - started >= SETTLE_MAX_MS) {
      return /** @type {number} */ (recent[recent.length - 1]);
    }
    await sleep(SETTLE_POLL_MS);
  }
}

/** @type {Scenario} */
export const memory = {
  id: 'memory',
  title: '5a. Memory per finished task',
  describe(quick) {
    return (
      `${sizes(quick).count.toLocaleString('en-US')} tasks finished with a 1,024-byte JSON result ` +
      `each (GET ${RESULT_PATH} on a zero-latency target), memory store, after ` +
      `${sizes(quick).warmup.toLocaleString('en-US')} warm-up tasks; growth of the proxy's RSS ` +
      `(/proc/<pid>/status VmRSS), each reading after two full collections (node --expose-gc; ` +
      `without them a reading held 100-190 MiB of garbage for 20-40 s of idle, or not), read ` +
      `once it has not moved by more than 1% for ` +
      `${sizes(quick).settleMs / 1000} s after the last task finished (at most ` +
      `${SETTLE_MAX_MS / 1000} s), ` +
      'divided by the tasks. A fresh proxy each run.'
    );
  },
  rows: () => [
    {
      id: 'per-100k',
      label: 'RSS growth per 100,000 finished tasks',
      measure: 'rss_per_100k_mib',
      unit: 'MiB',
      limit: { label: 'ceiling 100,000 × 4 KB', value: (100_000 * LIMIT_BYTES_PER_TASK) / 2 ** 20 },
      target: { on: 'ratio', op: '<=', value: 1 },
    },
    {
      id: 'per-task',
      label: 'RSS growth per finished task',
      measure: 'rss_per_task_bytes',
      unit: 'B',
      limit: { label: 'ceiling', value: LIMIT_BYTES_PER_TASK },
      target: { on: 'ratio', op: '<=', value: 1 },
    },
  ],
  async start(ctx) {
    const { count, warmup, settleMs } = sizes(ctx.quick);
    const target = await startTarget();
    return {
      unavailable: {},
      async runOnce() {
        const proxy = await startProxy({
          target,
          args: [
            '--max-concurrent',
            '50',
            '--num-workers',
            '50',
            '--max-queue-size',
            String(count + warmup),
            '--retention',
            '0',
            '--max-tasks',
            '0',
          ],
          profileDir: ctx.profileDir,
          nodeFlags: ['--expose-gc', '--require', GC_ON_SIGNAL],
        });
        const pool = openPool(proxy.url, SUBMITTERS);
        try {
          const submit = () => submitTask(pool, RESULT_PATH, { method: 'GET' });
          await runConcurrently(warmup, SUBMITTERS, submit);
          await waitForFinished(pool, warmup, { timeoutMs: 60_000 });
          const before = await collectedRss(proxy.pid, settleMs);
          await runConcurrently(count, SUBMITTERS, submit);
          await waitForFinished(pool, warmup + count, { timeoutMs: 600_000, intervalMs: 100 });
          const perTask = ((await collectedRss(proxy.pid, settleMs)) - before) / count;
          ctx.log(`memory: ${Math.round(perTask)} B RSS per finished task`);
          return { rss_per_task_bytes: perTask, rss_per_100k_mib: (perTask * 100_000) / 2 ** 20 };
        } finally {
          await pool.close();
          await proxy.stop();
        }
      },
      stop: () => target.stop(),
    };
  },
};
