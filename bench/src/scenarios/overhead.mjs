// @ts-check
// Scenario 3: what the proxy costs per task. The same tasks with the same concurrency go once
// straight to the target and once through the proxy (submit, upstream call, result read), and
// the proxy's own CPU time is read from /proc before and after.
import { now, openPool, runConcurrently, sleep } from '../load.mjs';
import { cpuSeconds } from '../proc-stats.mjs';
import { startProxy, startTarget } from '../processes.mjs';
import { getTask, isFinished, offersWaitingRead, submitTask } from '../proxy-api.mjs';
import { percentile } from '../stats.mjs';

/** @typedef {import('../scenario.d.ts').Scenario} Scenario */
/** @typedef {import('../processes.mjs').Server} Server */

const TARGET_MS = 20;
const CONCURRENCY = 50;
const POLL_MS = 10;
const WAIT_S = 30;
/** @param {boolean} quick */
const taskCount = (quick) => (quick ? 1_000 : 10_000);
const WARMUP = 500;

/**
 * @param {number} count
 * @param {(i: number) => Promise<void>} task
 */
async function timedTasks(count, task) {
  /** @type {number[]} */
  const latencies = new Array(count);
  const started = now();
  await runConcurrently(count, CONCURRENCY, async (i) => {
    const t0 = now();
    await task(i);
    latencies[i] = now() - t0;
  });
  const seconds = (now() - started) / 1000;
  return { tps: count / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/**
 * @param {Server} server
 * @param {number} count
 */
async function direct(server, count) {
  const pool = openPool(server.url, CONCURRENCY);
  const call = async () => {
    const res = await pool.request({ path: '/api/function1', method: 'GET' });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`target answered ${res.statusCode}`);
  };
  try {
    await runConcurrently(WARMUP, CONCURRENCY, call);
    const cpu0 = await cpuSeconds(server.pid);
    const figures = await timedTasks(count, call);
    const cpuMs = ((await cpuSeconds(server.pid)) - cpu0) * 1000;
    return { ...figures, cpuMsPerTask: cpuMs / count };
  } finally {
    await pool.close();
  }
}

/**
 * @param {Server} proxy
 * @param {number} count
 */
async function throughProxy(proxy, count) {
  const pool = openPool(proxy.url, CONCURRENCY * 2);
  const probeId = await submitTask(pool, '/api/function1');
  const waiting = await offersWaitingRead(pool, probeId);
  const roundTrip = async () => {
    const id = await submitTask(pool, '/api/function1');
    for (;;) {
      const task = await getTask(pool, id, waiting ? WAIT_S : undefined);
      if (isFinished(task)) {
        if (task.status !== 'completed') throw new Error(`task ${id} ${task.status}`);
        return;
      }
      if (!waiting) await sleep(POLL_MS);
    }
  };
  try {
    await runConcurrently(WARMUP, CONCURRENCY, roundTrip);
    const cpu0 = await cpuSeconds(proxy.pid);
    const figures = await timedTasks(count, roundTrip);
    const cpuMs = ((await cpuSeconds(proxy.pid)) - cpu0) * 1000;
    return { ...figures, cpuMsPerTask: cpuMs / count, waiting };
  } finally {
    await pool.close();
  }
}

/** @type {Scenario} */
export const overhead = {
  id: 'overhead',
  title: '3. Overhead: straight to the target vs through the proxy',
  describe(quick) {
    return (
      `${taskCount(quick).toLocaleString('en-US')} tasks after ${WARMUP} warm-up tasks, ` +
      `${CONCURRENCY} at a time, target latency ${TARGET_MS} ms. Direct: GET /api/function1 on ` +
      'the target. Through the proxy (--max-concurrent 50 --num-workers 50): submit, then read ' +
      `the result with the waiting read (\`?wait=${WAIT_S}\`), or by polling every ${POLL_MS} ms ` +
      'where the proxy has none; latency is submit to result held. CPU time is user + system ' +
      'of the server process from /proc/<pid>/stat over the measured tasks (10 ms ticks).'
    );
  },
  rows: () => [
    {
      id: 'tps',
      label: 'through the proxy: tasks per second',
      measure: 'proxy_tps',
      unit: '/s',
      limit: { label: 'direct', measure: 'direct_tps' },
    },
    {
      id: 'p50',
      label: 'through the proxy: latency p50',
      measure: 'proxy_p50_ms',
      unit: 'ms',
      limit: { label: 'direct', measure: 'direct_p50_ms' },
    },
    {
      id: 'p99',
      label: 'through the proxy: latency p99',
      measure: 'proxy_p99_ms',
      unit: 'ms',
      limit: { label: 'direct', measure: 'direct_p99_ms' },
    },
    {
      id: 'cpu',
      label: "proxy's CPU time per task",
      measure: 'proxy_cpu_ms',
      unit: 'ms',
      limit: { label: "target's CPU per request", measure: 'target_cpu_ms' },
    },
  ],
  async start(ctx) {
    const count = taskCount(ctx.quick);
    const target = await startTarget({ delayMs: TARGET_MS });
    return {
      unavailable: {},
      async runOnce() {
        const straight = await direct(target, count);
        const proxy = await startProxy({
          target,
          args: [
            '--max-concurrent',
            String(CONCURRENCY),
            '--num-workers',
            String(CONCURRENCY),
            '--max-queue-size',
            '100000',
          ],
          profileDir: ctx.profileDir,
        });
        try {
          const via = await throughProxy(proxy, count);
          ctx.log(
            `overhead: direct ${Math.round(straight.tps)}/s, proxy ${Math.round(via.tps)}/s ` +
              `(${via.waiting ? 'waiting read' : `polling every ${POLL_MS} ms`}), ` +
              `proxy CPU ${via.cpuMsPerTask.toFixed(3)} ms/task`,
          );
          return {
            direct_tps: straight.tps,
            proxy_tps: via.tps,
            direct_p50_ms: straight.p50,
            proxy_p50_ms: via.p50,
            direct_p99_ms: straight.p99,
            proxy_p99_ms: via.p99,
            target_cpu_ms: straight.cpuMsPerTask,
            proxy_cpu_ms: via.cpuMsPerTask,
          };
        } finally {
          await proxy.stop();
        }
      },
      stop: () => target.stop(),
    };
  },
};
