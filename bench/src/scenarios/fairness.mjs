// @ts-check
// Scenario 2b: fair sharing. Tenant A queues a thousand tasks, then tenant B queues ten; with
// --fair-key the tenants take turns, so B's tasks finish within a few slots' time instead of
// behind A's thousand. The same run without --fair-key shows what B would wait otherwise, and
// one on Redis (one instance) what BullMQ's priorities make of the turns.
import { openPool, runConcurrently } from '../load.mjs';
import { redisUnavailable, startProxy, startRedis, startTarget } from '../processes.mjs';
import { getTask, submitTask, waitForFinished } from '../proxy-api.mjs';
import { percentile } from '../stats.mjs';

/** @typedef {import('../scenario.d.ts').Scenario} Scenario */

const TARGET_MS = 20;
const CAP = 50;
const B_TASKS = 10;
/** A's burst: the same in quick mode, since a smaller one drains before B arrives. */
const A_TASKS = 1_000;
/**
 * B's median task under perfect sharing between two tenants: the slots free at CAP per
 * TARGET_MS and every other one is B's, so B's k-th task starts after 2k - 1 of them, then
 * runs TARGET_MS.
 */
const IDEAL_P50_MS = TARGET_MS + ((2 * (B_TASKS / 2) - 1) * TARGET_MS) / CAP;

/**
 * Submits A's burst, then B's ten, and returns B's completion times (finish - submission, by
 * the proxy's own clock) in ms.
 * @param {string} url
 * @param {number} count A's tasks
 */
async function bTimes(url, count) {
  const pool = openPool(url, 64);
  try {
    const submit = (/** @type {string} */ tenant) =>
      submitTask(pool, '/api/function1', { method: 'GET', headers: { 'x-proxy-tenant': tenant } });
    await runConcurrently(count, 64, () => submit('A'));
    const ids = await runConcurrently(B_TASKS, B_TASKS, () => submit('B'));
    const times = [];
    for (const id of ids) {
      const task = await getTask(pool, id, 60);
      if (task.status !== 'completed') throw new Error(`B's task ${id} ended ${task.status}`);
      times.push(Date.parse(task.completed_at ?? '') - Date.parse(task.created_at));
    }
    await waitForFinished(pool, count + B_TASKS, { timeoutMs: 120_000, intervalMs: 50 });
    return times;
  } finally {
    await pool.close();
  }
}

/** @type {Scenario} */
export const fairness = {
  id: 'fairness',
  title: '2b. Fair sharing: ten tasks behind a burst of a thousand',
  describe() {
    return (
      `Target latency ${TARGET_MS} ms, cap ${CAP}, default (SQLite) store. Tenant A submits ` +
      `${A_TASKS.toLocaleString('en-US')} tasks (X-Proxy-Tenant: A), then tenant B ` +
      `${B_TASKS}; B's completion time is finish − submission by the proxy's clock. With ` +
      '--fair-key header:X-Proxy-Tenant, then without it; then both on Redis (one instance, its ' +
      'own redis-server), where the ideal is out of reach: one instance runs about a fifth of ' +
      'the 2,500 calls a second the cap allows (scenario 6c). Ideal: B served every other free ' +
      `slot, its median task starts after ${2 * (B_TASKS / 2) - 1} slots free up at ${CAP} per ` +
      `${TARGET_MS} ms and runs ${TARGET_MS} ms: ${IDEAL_P50_MS.toFixed(1)} ms.`
    );
  },
  rows: () => [
    {
      id: 'fair-p50',
      label: "B's median completion time with --fair-key",
      measure: 'fair_b_p50_ms',
      unit: 'ms',
      limit: { label: 'ideal', value: IDEAL_P50_MS },
      target: { on: 'ratio', op: '<=', value: 3 },
    },
    {
      id: 'fair-max',
      label: "B's slowest completion time with --fair-key",
      measure: 'fair_b_max_ms',
      unit: 'ms',
    },
    {
      id: 'unfair-p50',
      label: "B's median completion time without --fair-key (behind A's burst)",
      measure: 'unfair_b_p50_ms',
      unit: 'ms',
      limit: { label: 'ideal', value: IDEAL_P50_MS },
    },
    {
      id: 'redis-fair-p50',
      label: "B's median completion time with --fair-key on Redis",
      measure: 'redis_fair_b_p50_ms',
      unit: 'ms',
      limit: { label: 'ideal', value: IDEAL_P50_MS },
    },
    {
      id: 'redis-unfair-p50',
      label: "B's median completion time without --fair-key on Redis (behind A's burst)",
      measure: 'redis_unfair_b_p50_ms',
      unit: 'ms',
      limit: { label: 'ideal', value: IDEAL_P50_MS },
    },
  ],
  async start(ctx) {
    const count = A_TASKS;
    const target = await startTarget({ delayMs: TARGET_MS });
    const missing = redisUnavailable();
    const redis = missing ? null : await startRedis();
    let run = 0;
    const args = [
      '--max-concurrent',
      String(CAP),
      '--num-workers',
      String(CAP),
      '--max-queue-size',
      String(count + B_TASKS),
    ];
    return {
      unavailable: Object.fromEntries(
        missing ? ['redis_fair_b_p50_ms', 'redis_unfair_b_p50_ms'].map((m) => [m, missing]) : [],
      ),
      async runOnce() {
        run++;
        /** @type {Record<string, number>} */
        const measures = {};
        const fairArgs = [...args, '--fair-key', 'header:X-Proxy-Tenant'];
        /** @type {{ prefix: string, redis: boolean, args: string[] }[]} */
        const runs = [
          { prefix: 'fair', redis: false, args: fairArgs },
          { prefix: 'unfair', redis: false, args },
        ];
        if (redis) {
          runs.push({ prefix: 'redis_fair', redis: true, args: fairArgs });
          runs.push({ prefix: 'redis_unfair', redis: true, args });
        }
        for (const { prefix, redis: onRedis, args: proxyArgs } of runs) {
          const proxy = await startProxy({
            target,
            ...(onRedis && redis
              ? { store: 'redis', redis: { url: redis.url, prefix: `bench-${prefix}-${run}` } }
              : { store: 'sqlite' }),
            args: proxyArgs,
          });
          try {
            const times = await bTimes(proxy.url, count);
            measures[`${prefix}_b_p50_ms`] = percentile(times, 50);
            measures[`${prefix}_b_max_ms`] = Math.max(...times);
          } finally {
            await proxy.stop();
          }
        }
        ctx.log(
          `fairness: B's p50 ${measures.fair_b_p50_ms?.toFixed(0)} ms shared, ` +
            `${measures.unfair_b_p50_ms?.toFixed(0)} ms behind A, ` +
            `on Redis ${measures.redis_fair_b_p50_ms?.toFixed(0) ?? '-'} ms shared, ` +
            `${measures.redis_unfair_b_p50_ms?.toFixed(0) ?? '-'} ms behind A ` +
            `(ideal ${IDEAL_P50_MS.toFixed(1)} ms)`,
        );
        return measures;
      },
      async stop() {
        await target.stop();
        await redis?.stop();
      },
    };
  },
};
