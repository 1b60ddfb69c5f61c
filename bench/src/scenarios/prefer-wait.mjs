// @ts-check
// Scenario 6b: a caller whose task usually takes 50 ms submits with `Prefer: wait` and gets the
// finished task in the submit's own answer: one round trip. Its time is compared with the same
// call made straight to the target, one call at a time so queueing plays no part.
import { now, openPool } from '../load.mjs';
import { startProxy, startTarget } from '../processes.mjs';
import { percentile } from '../stats.mjs';

/** @typedef {import('../scenario.d.ts').Scenario} Scenario */
/** @typedef {import('undici').Pool} Pool */

const TASK_MS = 50;
const OVERHEAD_LIMIT_MS = 5;
const WARMUP = 20;
const PREFER = 'wait=10';
/** @param {boolean} quick */
const sampleCount = (quick) => (quick ? 40 : 400);
/** @type {ReadonlyArray<'memory' | 'sqlite'>} */
const STORES = ['sqlite', 'memory'];

/**
 * @param {number} count
 * @param {() => Promise<void>} call
 */
async function sequentialTimes(count, call) {
  for (let i = 0; i < WARMUP; i++) await call();
  /** @type {number[]} */
  const times = [];
  for (let i = 0; i < count; i++) {
    const t0 = now();
    await call();
    times.push(now() - t0);
  }
  return times;
}

/** @param {Pool} pool */
const directCall = (pool) => async () => {
  const res = await pool.request({ path: '/api/function1', method: 'GET' });
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error(`target answered ${res.statusCode}`);
};

/**
 * A submit that must come back finished: 200 with Preference-Applied, never a 202 (which would
 * mean a second round trip to read the result).
 * @param {Pool} pool
 */
const heldSubmit = (pool) => async () => {
  const res = await pool.request({
    path: '/api/function1',
    method: 'GET',
    headers: { prefer: PREFER },
  });
  const text = await res.body.text();
  if (res.statusCode !== 200 || res.headers['preference-applied'] !== PREFER) {
    throw new Error(
      `Prefer: ${PREFER} answered ${res.statusCode} (Preference-Applied: ` +
        `${res.headers['preference-applied']}): ${text.slice(0, 200)}`,
    );
  }
  const task = JSON.parse(text).data;
  if (task.status !== 'completed') throw new Error(`the held task ended ${task.status}`);
};

/** @type {Scenario} */
export const preferWait = {
  id: 'prefer-wait',
  title: '6b. Prefer: wait on a 50 ms task',
  describe(quick) {
    return (
      `A target answering in ${TASK_MS} ms; ${sampleCount(quick)} sequential calls after ` +
      `${WARMUP} unmeasured ones, straight to the target and as a submit with ` +
      `Prefer: ${PREFER} that must answer 200 with the finished task (one round trip). ` +
      'Overhead: p50 through the proxy minus p50 straight to the target, per store.'
    );
  },
  rows: () =>
    STORES.flatMap((store) => [
      {
        id: `${store}-p50`,
        label: `Submit with Prefer: wait, p50 (${store} store)`,
        measure: `${store}_p50_ms`,
        unit: 'ms',
        limit: { label: 'straight to target', measure: 'direct_p50_ms' },
      },
      {
        id: `${store}-overhead`,
        label: `Overhead over the target's own time, p50 (${store} store)`,
        measure: `${store}_overhead_ms`,
        unit: 'ms',
        target: { on: 'figure', op: '<=', value: OVERHEAD_LIMIT_MS },
      },
    ]),
  async start(ctx) {
    const count = sampleCount(ctx.quick);
    const target = await startTarget({ delayMs: TASK_MS });
    return {
      unavailable: {},
      async runOnce() {
        /** @type {Record<string, number>} */
        const measures = {};
        const targetPool = openPool(target.url, 1);
        try {
          measures.direct_p50_ms = percentile(
            await sequentialTimes(count, directCall(targetPool)),
            50,
          );
        } finally {
          await targetPool.close();
        }
        for (const store of STORES) {
          const proxy = await startProxy({ target, store, profileDir: ctx.profileDir, args: [] });
          const pool = openPool(proxy.url, 1);
          try {
            const p50 = percentile(await sequentialTimes(count, heldSubmit(pool)), 50);
            measures[`${store}_p50_ms`] = p50;
            measures[`${store}_overhead_ms`] = p50 - measures.direct_p50_ms;
          } finally {
            await pool.close();
            await proxy.stop();
          }
        }
        ctx.log(
          `Prefer: wait: target ${measures.direct_p50_ms?.toFixed(1)} ms; overhead ` +
            STORES.map((s) => `${s} ${measures[`${s}_overhead_ms`]?.toFixed(2)} ms`).join(', '),
        );
        return measures;
      },
      stop: () => target.stop(),
    };
  },
};
