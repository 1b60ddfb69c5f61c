// @ts-check
// Scenario 2: completed tasks per second through a concurrency cap of 50 in front of a target
// that takes 20 ms, against the ideal 50 / 20 ms and against HAProxy holding the same cap in
// front of the same target.
import { now, openPool, runConcurrently } from '../load.mjs';
import { cpuSeconds } from '../proc-stats.mjs';
import { haproxyUnavailable, startHaproxy, startProxy, startTarget } from '../processes.mjs';
import { getStats, getTask, isFinished, submitTask, waitForFinished } from '../proxy-api.mjs';

/** @typedef {import('../scenario.d.ts').Scenario} Scenario */

export const TARGET_MS = 20;
export const CAP = 50;
const IDEAL = CAP / (TARGET_MS / 1000);
/** Requests the driver keeps open at once: well above the cap so the cap is what limits. */
export const DRIVER_CONCURRENCY = 200;
/** @param {boolean} quick */
const taskCount = (quick) => (quick ? 2_000 : 10_000);
export const WARMUP = 500;

/**
 * The proxy as this scenario runs it: the cap as both workers and concurrency, room for every
 * task.
 * @param {import('../processes.mjs').Server} target
 * @param {number} count tasks after the warm-up
 * @param {string} [profileDir]
 * @param {'memory' | 'sqlite'} [store]
 * @param {string[]} [extra] flags beyond the cap
 */
export function startCappedProxy(target, count, profileDir, store = 'memory', extra = []) {
  return startProxy({
    target,
    store,
    args: [
      '--max-concurrent',
      String(CAP),
      '--num-workers',
      String(CAP),
      '--max-queue-size',
      String(count + WARMUP),
      ...extra,
    ],
    profileDir,
  });
}

/** A Standard Webhooks secret for the run with every delivery policy on. */
const WEBHOOK_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

/**
 * Every delivery policy switched on, none of them limiting: retries on 503 and resets, a
 * deadline, fair sharing, a rate limit far above the pace, callbacks allowed to `receiver`.
 * @param {import('../processes.mjs').Server} receiver
 */
const policyFlags = (receiver) => [
  '--retry-on',
  '503,reset',
  '--max-queue-time',
  '600',
  '--fair-key',
  'header:X-Proxy-Tenant',
  '--max-rps',
  '100000',
  '--callback-allow',
  new URL(receiver.url).origin,
  '--webhook-secret',
  WEBHOOK_SECRET,
];

/**
 * What the tasks of that run carry: four tenants in turn, one in four at high priority, one
 * in ten with a callback.
 * @param {import('../processes.mjs').Server} receiver
 * @returns {(i: number) => Record<string, string>}
 */
const policyHeaders = (receiver) => (i) => ({
  'x-proxy-tenant': `tenant-${i % 4}`,
  ...(i % 4 === 0 ? { 'x-proxy-priority': 'high' } : {}),
  ...(i % 10 === 0 ? { 'x-proxy-callback-url': `${receiver.url}/api/text?text=hook` } : {}),
});

/**
 * The CPU time the servers spend per task over the timed stretch of a run, in microseconds:
 * `start()` when the stretch begins, `perTask(count)` when it ends. The proxy (or HAProxy) and
 * the target share one CPU here, so their sum per task says what rate that CPU allows.
 * @param {Record<string, number>} pids the servers by name
 */
function cpuMeter(pids) {
  const names = Object.keys(pids);
  const read = () => Promise.all(names.map((name) => cpuSeconds(pids[name] ?? 0)));
  /** @type {number[]} */
  let before = [];
  return {
    async start() {
      before = await read();
    },
    /** @param {number} count */
    async perTask(count) {
      const after = await read();
      /** @type {Record<string, number>} */
      const cpuUs = {};
      names.forEach((name, i) => {
        cpuUs[name] = (((after[i] ?? 0) - (before[i] ?? 0)) * 1e6) / count;
      });
      return cpuUs;
    },
  };
}

/** The pace the proxy's end-to-end target asks for: 0.9 of the ideal. */
const TARGET_PACE = 0.9 * IDEAL;

/**
 * The share of a CPU the proxy and the target together need to complete TARGET_PACE tasks a
 * second, at the CPU time per task they spent in this run: above 1, no scheduling lets the one
 * CPU they share reach that pace.
 * @param {Record<string, number>} cpuUs
 */
const oneCpuShare = (cpuUs) => (((cpuUs.proxy ?? 0) + (cpuUs.target ?? 0)) * TARGET_PACE) / 1e6;

/**
 * Requests per second straight to the target with the cap's concurrency: what the target
 * itself allows, timer slack and all.
 * @param {string} url
 * @param {number} count
 * @param {ReturnType<typeof cpuMeter>} cpu the target
 */
async function straight(url, count, cpu) {
  const pool = openPool(url, CAP);
  const call = async () => {
    const res = await pool.request({ path: '/api/function1', method: 'GET' });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`target answered ${res.statusCode}`);
  };
  try {
    await runConcurrently(WARMUP, CAP, call);
    await cpu.start();
    const started = now();
    await runConcurrently(count, CAP, call);
    const tps = count / ((now() - started) / 1000);
    return { tps, cpuUs: await cpu.perTask(count) };
  } finally {
    await pool.close();
  }
}

/**
 * Tasks per second through the proxy: from the first submission until /stats counts them all
 * completed; and the drain rate, from the moment the last submission was answered, which is
 * the forwarding alone, without the cost of accepting the burst. The driver holds one waiting
 * read on the last task queued (the last to start) instead of polling /stats meanwhile: polls
 * every few ms would take CPU from the proxy that HAProxy's driver never takes.
 * @param {string} url
 * @param {number} count
 * @param {ReturnType<typeof cpuMeter>} cpu the proxy and the target
 * @param {(i: number) => Record<string, string>} [headersOf] the headers of the i-th task
 */
async function throughProxy(url, count, cpu, headersOf = () => ({})) {
  const pool = openPool(url, DRIVER_CONCURRENCY);
  let lastQueued = '';
  const submit = async (/** @type {number} */ i) => {
    lastQueued = await submitTask(pool, '/api/function1', { headers: headersOf(i) });
  };
  try {
    await runConcurrently(WARMUP, DRIVER_CONCURRENCY, submit);
    await waitForFinished(pool, WARMUP, { timeoutMs: 60_000 });
    await cpu.start();
    const started = now();
    await runConcurrently(count, DRIVER_CONCURRENCY, submit);
    const queuedAt = now();
    const { totals } = await getStats(pool);
    while (!isFinished(await getTask(pool, lastQueued, 30)));
    await waitForFinished(pool, WARMUP + count, { timeoutMs: 120_000, intervalMs: 1 });
    const done = now();
    return {
      tps: count / ((done - started) / 1000),
      drainTps: (WARMUP + count - totals.completed) / ((done - queuedAt) / 1000),
      cpuUs: await cpu.perTask(count),
    };
  } finally {
    await pool.close();
  }
}

/**
 * Requests per second through HAProxy: each request is held open until the target answers,
 * which is how a synchronous forwarder completes a task.
 * @param {string} url
 * @param {number} count
 * @param {ReturnType<typeof cpuMeter>} cpu HAProxy and the target
 */
async function throughHaproxy(url, count, cpu) {
  const pool = openPool(url, DRIVER_CONCURRENCY);
  const call = async () => {
    const res = await pool.request({ path: '/api/function1', method: 'GET' });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`HAProxy answered ${res.statusCode}`);
  };
  try {
    await runConcurrently(WARMUP, DRIVER_CONCURRENCY, call);
    await cpu.start();
    const started = now();
    await runConcurrently(count, DRIVER_CONCURRENCY, call);
    const tps = count / ((now() - started) / 1000);
    return { tps, cpuUs: await cpu.perTask(count) };
  } finally {
    await pool.close();
  }
}

/** @type {Scenario} */
export const endToEnd = {
  id: 'end-to-end',
  title: '2. End-to-end throughput under a cap of 50',
  describe(quick) {
    return (
      `${taskCount(quick).toLocaleString('en-US')} tasks after ${WARMUP} warm-up tasks, target ` +
      `latency ${TARGET_MS} ms (slow-target --delay-ms ${TARGET_MS}), cap ${CAP}: proxy with ` +
      `--max-concurrent ${CAP} --num-workers ${CAP}, on the memory store and on the SQLite ` +
      `store (the default), and on SQLite with every delivery policy on (retries on 503 and ` +
      'resets, a deadline, fair sharing over four tenants, a rate limit far above the pace, one ' +
      `task in four at high priority, one in ten with a signed callback), all tasks submitted by ${DRIVER_CONCURRENCY} ` +
      'concurrent submitters, timed until /stats counts them completed; HAProxy 1 thread with ' +
      `\`server ... maxconn ${CAP}\`, ${DRIVER_CONCURRENCY} concurrent requests. Ideal = ` +
      `${CAP} / ${TARGET_MS} ms = ${IDEAL.toLocaleString('en-US')}/s; straight to the target with ` +
      `${CAP} requests at a time shows what the target itself allows.`
    );
  },
  rows: () => [
    {
      id: 'direct',
      label: 'straight to the target, 50 at a time: requests per second',
      measure: 'direct_tps',
      unit: '/s',
      limit: { label: 'ideal 50 / 20 ms', value: IDEAL },
    },
    {
      id: 'haproxy',
      label: 'HAProxy maxconn 50: requests per second',
      measure: 'haproxy_tps',
      unit: '/s',
      limit: { label: 'ideal 50 / 20 ms', value: IDEAL },
    },
    {
      id: 'drain',
      label: 'proxy: completed per second once all were queued',
      measure: 'proxy_drain_tps',
      unit: '/s',
      limit: { label: 'ideal 50 / 20 ms', value: IDEAL },
    },
    {
      id: 'proxy',
      label: 'proxy: completed tasks per second',
      measure: 'proxy_tps',
      unit: '/s',
      limit: { label: 'ideal 50 / 20 ms', value: IDEAL },
      target: {
        on: 'ratio',
        op: '>=',
        value: 0.9,
        notBelowRatioOf: { row: 'haproxy', name: "HAProxy's" },
      },
    },
    {
      id: 'policies',
      label: 'proxy on SQLite with every delivery policy on: completed tasks per second',
      measure: 'policies_tps',
      unit: '/s',
      limit: { label: 'ideal 50 / 20 ms', value: IDEAL },
      target: { on: 'ratio', op: '>=', value: 0.9 },
    },
    {
      id: 'sqlite-drain',
      label: 'proxy on SQLite: completed per second once all were queued',
      measure: 'sqlite_drain_tps',
      unit: '/s',
      limit: { label: 'ideal 50 / 20 ms', value: IDEAL },
    },
    {
      id: 'sqlite',
      label: 'proxy on SQLite: completed tasks per second',
      measure: 'sqlite_tps',
      unit: '/s',
      limit: { label: 'ideal 50 / 20 ms', value: IDEAL },
      target: { on: 'ratio', op: '>=', value: 0.9 },
    },
    {
      id: 'target-cpu',
      label: 'the target: CPU time per call (straight to it)',
      measure: 'target_cpu_us',
      unit: 'µs',
    },
    {
      id: 'haproxy-cpu',
      label: 'HAProxy: CPU time per request',
      measure: 'haproxy_cpu_us',
      unit: 'µs',
    },
    {
      id: 'proxy-cpu',
      label: 'proxy: CPU time per task (submission, call, reads)',
      measure: 'proxy_cpu_us',
      unit: 'µs',
      limit: { label: 'HAProxy per request', measure: 'haproxy_cpu_us' },
    },
    {
      id: 'sqlite-cpu',
      label: 'proxy on SQLite: CPU time per task',
      measure: 'sqlite_cpu_us',
      unit: 'µs',
      limit: { label: 'HAProxy per request', measure: 'haproxy_cpu_us' },
    },
    {
      id: 'policies-cpu',
      label: 'proxy on SQLite with every policy: CPU time per task',
      measure: 'policies_cpu_us',
      unit: 'µs',
      limit: { label: 'HAProxy per request', measure: 'haproxy_cpu_us' },
    },
    {
      id: 'one-cpu',
      label: 'proxy and target: share of their one CPU needed at 0.9 of the ideal',
      measure: 'proxy_one_cpu',
      unit: '×',
    },
    {
      id: 'sqlite-one-cpu',
      label: 'the same on SQLite',
      measure: 'sqlite_one_cpu',
      unit: '×',
    },
    {
      id: 'policies-one-cpu',
      label: 'the same on SQLite with every policy',
      measure: 'policies_one_cpu',
      unit: '×',
    },
  ],
  async start(ctx) {
    const count = taskCount(ctx.quick);
    const target = await startTarget({ delayMs: TARGET_MS });
    const noHaproxy = haproxyUnavailable();
    return {
      unavailable: noHaproxy
        ? { haproxy_tps: noHaproxy, haproxy_cpu_us: noHaproxy }
        : /** @type {Record<string, string>} */ ({}),
      async runOnce() {
        const direct = await straight(target.url, count, cpuMeter({ target: target.pid }));
        /** @type {Record<string, number>} */
        const measures = { direct_tps: direct.tps, target_cpu_us: direct.cpuUs.target ?? 0 };
        if (!noHaproxy) {
          const haproxy = await startHaproxy({ target, maxconn: CAP });
          try {
            const through = await throughHaproxy(
              haproxy.url,
              count,
              cpuMeter({ haproxy: haproxy.pid, target: target.pid }),
            );
            measures.haproxy_tps = through.tps;
            measures.haproxy_cpu_us = through.cpuUs.haproxy ?? 0;
          } finally {
            await haproxy.stop();
          }
        }
        for (const store of /** @type {const} */ (['memory', 'sqlite'])) {
          const proxy = await startCappedProxy(target, count, ctx.profileDir, store);
          try {
            const figures = await throughProxy(
              proxy.url,
              count,
              cpuMeter({ proxy: proxy.pid, target: target.pid }),
            );
            const prefix = store === 'memory' ? 'proxy' : 'sqlite';
            measures[`${prefix}_tps`] = figures.tps;
            measures[`${prefix}_drain_tps`] = figures.drainTps;
            measures[`${prefix}_cpu_us`] = figures.cpuUs.proxy ?? 0;
            measures[`${prefix}_one_cpu`] = oneCpuShare(figures.cpuUs);
          } finally {
            await proxy.stop();
          }
        }
        const receiver = await startTarget();
        const policies = await startCappedProxy(
          target,
          count,
          undefined,
          'sqlite',
          policyFlags(receiver),
        );
        try {
          const figures = await throughProxy(
            policies.url,
            count,
            cpuMeter({ proxy: policies.pid, target: target.pid }),
            policyHeaders(receiver),
          );
          measures.policies_tps = figures.tps;
          measures.policies_cpu_us = figures.cpuUs.proxy ?? 0;
          measures.policies_one_cpu = oneCpuShare(figures.cpuUs);
        } finally {
          await policies.stop();
          await receiver.stop();
        }
        const rate = (/** @type {number | undefined} */ tps) =>
          tps === undefined ? 'n/a' : `${Math.round(tps)}/s`;
        ctx.log(
          `end-to-end: direct ${rate(measures.direct_tps)}, proxy ${rate(measures.proxy_tps)}, ` +
            `on SQLite ${rate(measures.sqlite_tps)}, with every policy ${rate(measures.policies_tps)}, ` +
            `HAProxy ${rate(measures.haproxy_tps)}`,
        );
        return measures;
      },
      stop: () => target.stop(),
    };
  },
};
