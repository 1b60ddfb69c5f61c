// @ts-check
// Scenario 2c: fair sharing among many callers. With --fair-key ip every caller's address is a
// tenant, so a public API can have tens of thousands queued at once; a submission and a read must
// cost about what they cost with one tenant, not grow with the tenants queued. The target is too
// slow to drain anything, so every task stays queued.

import { now, openPool, runConcurrently } from '../load.mjs';
import { cpuSeconds } from '../proc-stats.mjs';
import { startProxy, startTarget } from '../processes.mjs';
import { submitTask } from '../proxy-api.mjs';
import { percentile } from '../stats.mjs';

/** @typedef {import('../scenario.d.ts').Scenario} Scenario */

const CONNECTIONS = 50;
const READS = 500;
/** @param {boolean} quick */
const sizes = (quick) =>
  quick ? { queued: 5_000, measured: 2_000 } : { queued: 20_000, measured: 10_000 };

/**
 * Milliseconds of each of READS sequential GETs of `path`.
 * @param {import('undici').Pool} pool
 * @param {string} path
 */
async function readTimes(pool, path) {
  const times = [];
  for (let n = 0; n < READS; n++) {
    const started = now();
    const res = await pool.request({ path, method: 'GET' });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`GET ${path}: ${res.statusCode}`);
    times.push(now() - started);
  }
  return times;
}

/**
 * Fills the queue with `queued` tasks, then measures the proxy's CPU time over `measured` more
 * and the reads' latency; `tenantOf(n)` names the n-th submission's tenant.
 * @param {import('../processes.mjs').Server} proxy
 * @param {{ queued: number, measured: number }} size
 * @param {(n: number) => string} tenantOf
 */
async function measure(proxy, { queued, measured }, tenantOf) {
  const pool = openPool(proxy.url, CONNECTIONS);
  try {
    const submit = (/** @type {number} */ n) =>
      submitTask(pool, '/api/x', { body: '{}', headers: { 'x-proxy-tenant': tenantOf(n) } });
    await runConcurrently(queued, CONNECTIONS, submit);
    const cpu0 = await cpuSeconds(proxy.pid);
    await runConcurrently(measured, CONNECTIONS, (n) => submit(queued + n));
    const cpuUs = (((await cpuSeconds(proxy.pid)) - cpu0) * 1e6) / measured;
    return {
      cpuUs,
      statsP99: percentile(await readTimes(pool, '/stats'), 99),
      pageP99: percentile(await readTimes(pool, '/tasks?status=pending&limit=100'), 99),
    };
  } finally {
    await pool.close();
  }
}

/** @type {Scenario} */
export const manyTenants = {
  id: 'many-tenants',
  title: '2c. Fair sharing among many tenants',
  describe(quick) {
    const { queued, measured } = sizes(quick);
    return (
      `Memory store, --fair-key header:X-Proxy-Tenant, --max-concurrent 1, a target that answers after an ` +
      `hour, so every task stays queued. ${queued.toLocaleString('en-US')} submissions, then ` +
      `${measured.toLocaleString('en-US')} more measured (${CONNECTIONS} at a time, CPU time ` +
      `of the proxy from /proc), then ${READS} reads of /stats and of ` +
      '/tasks?status=pending&limit=100 (each task there with its queue position) one after ' +
      'another. Each submission its own tenant, as with --fair-key ip and as many callers; then ' +
      "two submissions per tenant, so that half the positions are of a tenant's second task; " +
      'the limit is the same with every submission from one tenant.'
    );
  },
  rows: (quick) => {
    const queued = `${(sizes(quick).queued / 1000).toFixed(0)}k`;
    return [
      {
        id: 'cpu',
        label: `a tenant per task, ${queued} and more queued: CPU time per submission`,
        measure: 'many_cpu_us',
        unit: 'µs',
        limit: { label: 'one tenant', measure: 'one_cpu_us' },
      },
      {
        id: 'stats-p99',
        label: 'a tenant per task: /stats latency p99',
        measure: 'many_stats_p99_ms',
        unit: 'ms',
        limit: { label: 'one tenant', measure: 'one_stats_p99_ms' },
      },
      {
        id: 'page-p99',
        label: 'a tenant per task: /tasks?status=pending&limit=100 latency p99',
        measure: 'many_page_p99_ms',
        unit: 'ms',
        limit: { label: 'one tenant', measure: 'one_page_p99_ms' },
      },
      {
        id: 'pairs-cpu',
        label: `two tasks per tenant, ${queued} and more queued: CPU time per submission`,
        measure: 'pairs_cpu_us',
        unit: 'µs',
        limit: { label: 'one tenant', measure: 'one_cpu_us' },
      },
      {
        id: 'pairs-page-p99',
        label: 'two tasks per tenant: /tasks?status=pending&limit=100 latency p99',
        measure: 'pairs_page_p99_ms',
        unit: 'ms',
        limit: { label: 'one tenant', measure: 'one_page_p99_ms' },
      },
    ];
  },
  async start(ctx) {
    const size = sizes(ctx.quick);
    const target = await startTarget({ delayMs: 3_600_000 });
    const args = [
      ...['--fair-key', 'header:X-Proxy-Tenant', '--max-concurrent', '1', '--num-workers', '1'],
      ...['--max-queue-size', String(size.queued + size.measured), '--max-tasks', '0'],
    ];
    return {
      unavailable: {},
      async runOnce() {
        /** @type {Record<string, number>} */
        const measures = {};
        const tenants = (size.queued + size.measured) / 2;
        const ways = {
          many: (/** @type {number} */ n) => `caller-${n}`,
          pairs: (/** @type {number} */ n) => `caller-${n % tenants}`,
          one: () => 'caller',
        };
        for (const [way, tenantOf] of Object.entries(ways)) {
          const proxy = await startProxy({ target, args, profileDir: ctx.profileDir });
          try {
            const figures = await measure(proxy, size, tenantOf);
            measures[`${way}_cpu_us`] = figures.cpuUs;
            measures[`${way}_stats_p99_ms`] = figures.statsP99;
            measures[`${way}_page_p99_ms`] = figures.pageP99;
          } finally {
            await proxy.stop();
          }
        }
        ctx.log(
          `many tenants: ${measures.many_cpu_us?.toFixed(0)} µs per submission, ` +
            `${measures.pairs_cpu_us?.toFixed(0)} µs with two tasks per tenant, ` +
            `${measures.one_cpu_us?.toFixed(0)} µs with one tenant`,
        );
        return measures;
      },
      async stop() {
        await target.stop();
      },
    };
  },
};
