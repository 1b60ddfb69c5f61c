// @ts-check
// Scenario 4: how long a finished result sits at the proxy before the client holds it, for
// the three ways of waiting. Measured from the target's own answer time (`processed_at`, set by
// slow-target as it answers) to the moment the client has the finished task; every process
// runs on this machine, so the clocks agree.
import { ProxyClient } from 'proxy-client';
import { openPool, runConcurrently, sleep } from '../load.mjs';
import { startProxy, startTarget } from '../processes.mjs';
import { getTask, isFinished, offersWaitingRead, submitTask } from '../proxy-api.mjs';
import { percentile } from '../stats.mjs';

/** @typedef {import('../scenario.d.ts').Scenario} Scenario */
/** @typedef {import('proxy-client/wire').Task} Task */
/** @typedef {import('undici').Pool} Pool */

const FIXED_INTERVAL_MS = 5_000;
/** @param {boolean} quick */
const sizes = (quick) =>
  quick ? { count: 8, minMs: 100, maxMs: 1_000 } : { count: 30, minMs: 500, maxMs: 15_000 };

/**
 * Task durations spread evenly over the range, so every phase of a polling schedule is hit.
 * @param {{ count: number, minMs: number, maxMs: number }} size
 */
export function spreadDelays({ count, minMs, maxMs }) {
  if (count === 1) return [minMs];
  return Array.from({ length: count }, (_, i) =>
    Math.round(minMs + ((maxMs - minMs) * i) / (count - 1)),
  );
}

/**
 * Milliseconds from the target's answer to now.
 * @param {Task} task
 */
function sinceTargetAnswered(task) {
  const heldAt = Date.now();
  if (task.status !== 'completed') throw new Error(`task ${task.task_id} ended ${task.status}`);
  const body = /** @type {{ processed_at?: string }} */ (task.result?.body ?? {});
  const answeredAt = Date.parse(body.processed_at ?? '');
  if (!Number.isFinite(answeredAt)) throw new Error(`task ${task.task_id}: no processed_at`);
  return heldAt - answeredAt;
}

/**
 * @param {Pool} pool
 * @param {number[]} delays
 */
const submitAll = (pool, delays) =>
  Promise.all(delays.map((ms) => submitTask(pool, `/api/function1?delay_ms=${ms}`)));

/**
 * @param {number[]} latencies
 * @param {number} reads
 * @param {string} prefix
 */
const figures = (latencies, reads, prefix) => ({
  [`${prefix}_p50_ms`]: percentile(latencies, 50),
  [`${prefix}_p99_ms`]: percentile(latencies, 99),
  [`${prefix}_reads`]: reads / latencies.length,
});

/**
 * What users do today: read, and if not finished, read again 5 s later.
 * @param {Pool} pool
 * @param {number[]} delays
 */
async function fixedPolling(pool, delays) {
  const ids = await submitAll(pool, delays);
  let reads = 0;
  const latencies = await runConcurrently(ids.length, ids.length, async (i) => {
    for (;;) {
      reads++;
      const task = await getTask(pool, /** @type {string} */ (ids[i]));
      if (isFinished(task)) return sinceTargetAnswered(task);
      await sleep(FIXED_INTERVAL_MS);
    }
  });
  return figures(latencies, reads, 'fixed');
}

/**
 * proxy-client's waitForTask without pollInterval. With `hideWaitingRead` the proxy's
 * `x-proxy-wait-max` header is removed on the way in, so the SDK falls back to its adaptive
 * polling schedule exactly as it would against a proxy without the waiting read.
 * @param {Pool} pool
 * @param {string} url
 * @param {number[]} delays
 * @param {boolean} hideWaitingRead
 */
async function sdkWait(pool, url, delays, hideWaitingRead) {
  let reads = 0;
  /** @type {typeof fetch} */
  const countingFetch = async (input, init) => {
    reads++;
    const res = await fetch(input, init);
    if (!hideWaitingRead) return res;
    const headers = new Headers(res.headers);
    headers.delete('x-proxy-wait-max');
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  };
  const client = new ProxyClient({ baseUrl: url, fetch: countingFetch });
  const ids = await submitAll(pool, delays);
  const latencies = await runConcurrently(ids.length, ids.length, async (i) =>
    sinceTargetAnswered(await client.waitForTask(/** @type {string} */ (ids[i]))),
  );
  return figures(latencies, reads, hideWaitingRead ? 'adaptive' : 'wait');
}

/** @param {string} label @param {string} prefix @param {boolean} judged */
function methodRows(label, prefix, judged) {
  /** @type {import('../aggregate.mjs').RowSpec[]} */
  const rows = [
    {
      id: `${prefix}-p50`,
      label: `${label}: p50`,
      measure: `${prefix}_p50_ms`,
      unit: 'ms',
      ...(judged && {
        limit: { label: 'fixed 5 s', measure: 'fixed_p50_ms' },
        target: { on: 'ratio', op: '<=', value: 1 },
      }),
    },
    {
      id: `${prefix}-p99`,
      label: `${label}: p99`,
      measure: `${prefix}_p99_ms`,
      unit: 'ms',
      ...(judged && {
        limit: { label: 'fixed 5 s', measure: 'fixed_p99_ms' },
        target: { on: 'ratio', op: '<=', value: 1 },
      }),
    },
    {
      id: `${prefix}-reads`,
      label: `${label}: HTTP reads per task`,
      measure: `${prefix}_reads`,
      unit: '',
      ...(judged && { limit: { label: 'fixed 5 s', measure: 'fixed_reads' } }),
    },
  ];
  return rows;
}

/** @type {Scenario} */
export const timeToResult = {
  id: 'time-to-result',
  title: '4. Time to result',
  describe(quick) {
    const { count, minMs, maxMs } = sizes(quick);
    return (
      `${count} tasks at once per way of waiting, target durations spread evenly from ` +
      `${minMs} ms to ${(maxMs / 1000).toFixed(1)} s; time from the target's answer ` +
      '(`processed_at` in its body) to the client holding the finished task. Fixed: GET ' +
      "/task/:id every 5 s. Adaptive: proxy-client `waitForTask(id)` with the proxy's " +
      '`x-proxy-wait-max` header hidden, so it polls on its adaptive schedule. Waiting read: ' +
      'proxy-client `waitForTask(id)` as shipped, which holds `GET /task/:id?wait=` reads. ' +
      `With ${count} tasks, p99 is the slowest task.`
    );
  },
  rows: () => [
    ...methodRows('fixed 5 s polling', 'fixed', false),
    ...methodRows('adaptive polling (SDK)', 'adaptive', true),
    ...methodRows('waiting read (SDK)', 'wait', true),
  ],
  async start(ctx) {
    const delays = spreadDelays(sizes(ctx.quick));
    const target = await startTarget();
    /** @type {import('../processes.mjs').Server | undefined} */
    let proxy;
    /** @type {Pool | undefined} */
    let pool;
    const stop = async () => {
      await pool?.close();
      await proxy?.stop();
      await target.stop();
    };
    try {
      proxy = await startProxy({
        target,
        args: ['--max-concurrent', '100', '--num-workers', '100'],
        profileDir: ctx.profileDir,
      });
      pool = openPool(proxy.url, 100);
      const waiting = await offersWaitingRead(pool, await submitTask(pool, '/api/function1'));
      /** @type {Record<string, string>} */
      const unavailable = {};
      if (!waiting) {
        for (const f of ['p50_ms', 'p99_ms', 'reads']) {
          unavailable[`wait_${f}`] = 'this proxy-server has no waiting read (no x-proxy-wait-max)';
        }
      }
      const url = proxy.url;
      const reads = pool;
      return {
        unavailable,
        async runOnce() {
          const measures = {
            ...(await fixedPolling(reads, delays)),
            ...(await sdkWait(reads, url, delays, true)),
            ...(waiting ? await sdkWait(reads, url, delays, false) : {}),
          };
          const p50 = (/** @type {number | undefined} */ ms) =>
            ms === undefined ? 'n/a' : `${Math.round(ms)} ms`;
          ctx.log(
            `time to result p50: fixed ${p50(measures.fixed_p50_ms)}, adaptive ` +
              `${p50(measures.adaptive_p50_ms)}, waiting read ${p50(measures.wait_p50_ms)}`,
          );
          return measures;
        },
        stop,
      };
    } catch (err) {
      await stop();
      throw err;
    }
  },
};
