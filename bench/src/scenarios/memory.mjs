// @ts-check
// Scenario 5a: what a finished task costs in resident memory. The proxy's RSS is read from
// /proc before and after N tasks whose results are 1 KB of JSON, once the proxy is idle again.
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
    : { count: 100_000, warmup: 2_000, settleMs: 2_000 };

/** @type {Scenario} */
export const memory = {
  id: 'memory',
  title: '5a. Memory per finished task',
  describe(quick) {
    return (
      `${sizes(quick).count.toLocaleString('en-US')} tasks finished with a 1,024-byte JSON result ` +
      `each (GET ${RESULT_PATH} on a zero-latency target), memory store, after ` +
      `${sizes(quick).warmup.toLocaleString('en-US')} warm-up tasks; growth of the proxy's RSS ` +
      `(/proc/<pid>/status VmRSS) read ${sizes(quick).settleMs / 1000} s after the last task ` +
      'finished (idle time, so the collector has run after the burst), ' +
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
          ],
          profileDir: ctx.profileDir,
        });
        const pool = openPool(proxy.url, SUBMITTERS);
        try {
          const submit = () => submitTask(pool, RESULT_PATH, { method: 'GET' });
          await runConcurrently(warmup, SUBMITTERS, submit);
          await waitForFinished(pool, warmup, { timeoutMs: 60_000 });
          await sleep(settleMs);
          const before = await rssBytes(proxy.pid);
          await runConcurrently(count, SUBMITTERS, submit);
          await waitForFinished(pool, warmup + count, { timeoutMs: 600_000, intervalMs: 100 });
          await sleep(settleMs);
          const perTask = ((await rssBytes(proxy.pid)) - before) / count;
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
