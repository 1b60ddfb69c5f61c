// @ts-check
// Scenario 6: several instances on one Redis. End-to-end throughput under one global cap of 50
// shared by 1, 2 and 3 instances, against the ideal 50 / 20 ms and against BullMQ alone running
// the same tasks on the same Redis; the submit path of one instance against BullMQ's own
// `Queue.add`; and what one task costs Redis, counted by Redis itself (INFO commandstats) over
// the measured tasks.
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { now, openPool, runConcurrently } from '../load.mjs';
import { redisUnavailable, runBullmq, startProxy, startRedis, startTarget } from '../processes.mjs';
import { getStats, getTask, isFinished, submitTask } from '../proxy-api.mjs';
import { oneKilobyteJson } from './submit-throughput.mjs';

/** @typedef {import('../scenario.d.ts').Scenario} Scenario */
/** @typedef {import('../processes.mjs').Server} Server */

const TARGET_MS = 20;
const CAP = 50;
const IDEAL = CAP / (TARGET_MS / 1000);
const DRIVER_CONCURRENCY = 200;
const INSTANCES = [1, 2, 3];
const SUBMIT_CONNECTIONS = 50;
/** @param {boolean} quick */
const sizes = (quick) =>
  quick
    ? { tasks: 1_000, warmup: 200, warmupS: 1, durationS: 1 }
    : { tasks: 10_000, warmup: 500, warmupS: 2, durationS: 10 };

/** Redis's own count of the commands it ran (scripts' too) and the time they took. */
async function commandStats(/** @type {Redis} */ admin) {
  const text = await admin.info('commandstats');
  let calls = 0;
  let scripts = 0;
  let usec = 0;
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    const [, name = '', callsText = '0', usecText = '0'] = match;
    calls += Number(callsText);
    usec += Number(usecText);
    if (/^(eval|evalsha|fcall)/.test(name)) scripts += Number(callsText);
  }
  return { calls, scripts, usec };
}

/**
 * Polls /stats (its counts are every instance's) until `count` tasks completed.
 * @param {import('undici').Pool} pool
 * @param {number} count
 */
async function allCompleted(pool, count) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const { tasks } = await getStats(pool);
    if (tasks.failed > 0) throw new Error(`${tasks.failed} task(s) failed`);
    if (tasks.completed >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${tasks.completed} of ${count} completed`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Tasks per second through `urls` (instances of one queue), submitted in turn by
 * DRIVER_CONCURRENCY submitters, from the first submission until /stats counts them all
 * completed; the drain rate from the last submission's answer; and what Redis did meanwhile.
 * Like scenario 2, the driver holds a waiting read on the last task queued rather than
 * polling while the tasks run.
 * @param {string[]} urls
 * @param {{ tasks: number, warmup: number }} size
 * @param {Redis} admin
 */
async function throughInstances(urls, { tasks: count, warmup }, admin) {
  const pools = urls.map((url) => openPool(url, DRIVER_CONCURRENCY));
  const first = /** @type {import('undici').Pool} */ (pools[0]);
  let turn = 0;
  let lastQueued = '';
  const submit = async () => {
    const pool = /** @type {import('undici').Pool} */ (pools[turn++ % pools.length]);
    lastQueued = await submitTask(pool, '/api/function1');
  };
  try {
    await runConcurrently(warmup, DRIVER_CONCURRENCY, submit);
    await allCompleted(first, warmup);
    const before = await commandStats(admin);
    const started = now();
    await runConcurrently(count, DRIVER_CONCURRENCY, submit);
    const queuedAt = now();
    const { tasks } = await getStats(first);
    while (!isFinished(await getTask(first, lastQueued, 30)));
    await allCompleted(first, warmup + count);
    const done = now();
    const after = await commandStats(admin);
    return {
      tps: count / ((done - started) / 1000),
      drainTps: (warmup + count - tasks.completed) / ((done - queuedAt) / 1000),
      commandsPerTask: (after.calls - before.calls) / count,
      scriptsPerTask: (after.scripts - before.scripts) / count,
      redisUsPerTask: (after.usec - before.usec) / count,
    };
  } finally {
    await Promise.all(pools.map((pool) => pool.close()));
  }
}

/**
 * 202 answers per second of one instance on Redis, whose target never answers so every task
 * stays queued (scenario 1's conditions).
 * @param {Server} proxy
 * @param {{ warmupS: number, durationS: number }} size
 */
async function submitRate(proxy, { warmupS, durationS }) {
  const body = oneKilobyteJson();
  const options = {
    url: `${proxy.url}/api/x`,
    method: /** @type {const} */ ('POST'),
    headers: { 'content-type': 'application/json' },
    body,
    connections: SUBMIT_CONNECTIONS,
  };
  await autocannon({ ...options, duration: warmupS });
  const result = await autocannon({ ...options, duration: durationS });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${result.non2xx} non-2xx answers and ${result.errors} errors on Redis`);
  }
  return result['2xx'] / result.duration;
}

/** @type {Scenario} */
export const redisScenario = {
  id: 'redis',
  title: '6c. Several instances on Redis',
  describe(quick) {
    const { tasks, warmup, durationS } = sizes(quick);
    return (
      `One redis-server (no persistence: what is measured is coordination, not the disk) on ` +
      `the servers' CPUs. End-to-end: ${tasks.toLocaleString('en-US')} tasks after ${warmup} ` +
      `warm-up tasks through 1, 2 and 3 instances of one queue (each --max-concurrent ${CAP} ` +
      `--num-workers ${CAP}: one global cap of ${CAP} shared by all), target latency ` +
      `${TARGET_MS} ms, submitted in turn to the instances by ${DRIVER_CONCURRENCY} ` +
      `concurrent submitters, timed until /stats counts them completed; ideal = ${CAP} / ` +
      `${TARGET_MS} ms = ${IDEAL.toLocaleString('en-US')}/s. Submit: autocannon, ` +
      `${SUBMIT_CONNECTIONS} connections, ${durationS} s, POST /api/x with a 1,024-byte ` +
      'JSON body to one instance whose target never answers, beside BullMQ `Queue.add` of the ' +
      `same body with ${SUBMIT_CONNECTIONS} adds in flight from one Node process on the same ` +
      'Redis (the limit). BullMQ alone: one Node process adds the same tasks with ' +
      `${DRIVER_CONCURRENCY} adds in flight and runs them with a Worker under the same global ` +
      `cap of ${CAP}, each a GET to the same target: the engine's own limit on this machine. ` +
      'Per task: Redis INFO commandstats over the measured tasks of the ' +
      'one-instance run, every command Redis ran (inside scripts too), the scripts among them, ' +
      "and Redis's time."
    );
  },
  rows: () => [
    ...INSTANCES.map((n) => ({
      id: `e2e-${n}`,
      label: `${n} instance${n === 1 ? '' : 's'} sharing the cap: completed tasks per second`,
      measure: `e2e_${n}_tps`,
      unit: '/s',
      limit: { label: 'ideal 50 / 20 ms', value: IDEAL },
      target: { on: /** @type {const} */ ('ratio'), op: /** @type {const} */ ('>='), value: 0.9 },
    })),
    {
      id: 'bullmq',
      label: 'BullMQ alone, same cap, target and tasks: completed per second',
      measure: 'bullmq_tps',
      unit: '/s',
      limit: { label: 'ideal 50 / 20 ms', value: IDEAL },
    },
    {
      id: 'vs-bullmq',
      label: '1 instance: completed tasks per second, beside BullMQ alone',
      measure: 'e2e_1_tps',
      unit: '/s',
      limit: { label: 'BullMQ alone', measure: 'bullmq_tps' },
    },
    ...INSTANCES.map((n) => ({
      id: `drain-${n}`,
      label: `${n} instance${n === 1 ? '' : 's'}: completed per second once all were queued`,
      measure: `drain_${n}_tps`,
      unit: '/s',
      limit: { label: 'ideal 50 / 20 ms', value: IDEAL },
    })),
    {
      id: 'submit',
      label: 'one instance on Redis: 202 answers per second',
      measure: 'submit_rps',
      unit: 'req/s',
      limit: { label: 'BullMQ Queue.add on the same Redis', measure: 'bullmq_add_rps' },
    },
    {
      id: 'commands',
      label: 'Redis commands per task, submit to completed (inside scripts too)',
      measure: 'commands_per_task',
      unit: '',
    },
    {
      id: 'scripts',
      label: 'of which scripts run (Lua: the proxy’s and BullMQ’s)',
      measure: 'scripts_per_task',
      unit: '',
    },
    {
      id: 'redis-time',
      label: 'Redis time per task',
      measure: 'redis_us_per_task',
      unit: 'µs',
    },
  ],
  async start(ctx) {
    const size = sizes(ctx.quick);
    const missing = redisUnavailable();
    if (missing) {
      const measures = [
        ...INSTANCES.flatMap((n) => [`e2e_${n}_tps`, `drain_${n}_tps`]),
        ...['bullmq_tps', 'submit_rps', 'bullmq_add_rps', 'commands_per_task', 'scripts_per_task'],
        'redis_us_per_task',
      ];
      return {
        unavailable: Object.fromEntries(measures.map((measure) => [measure, missing])),
        runOnce: async () => ({}),
        stop: async () => {},
      };
    }
    const redis = await startRedis();
    const admin = new Redis(redis.url);
    const target = await startTarget({ delayMs: TARGET_MS });
    let run = 0;
    /** @param {Server} proxyTarget @param {string} prefix @param {string[]} args */
    const instance = (proxyTarget, prefix, args) =>
      startProxy({
        target: proxyTarget,
        store: 'redis',
        redis: { url: redis.url, prefix },
        profileDir: ctx.profileDir,
        args,
      });
    return {
      unavailable: {},
      async runOnce() {
        run++;
        /** @type {Record<string, number>} */
        const measures = {};
        const capArgs = ['--max-concurrent', String(CAP), '--num-workers', String(CAP)];
        const queueArgs = ['--max-queue-size', String(size.tasks + size.warmup)];
        for (const n of INSTANCES) {
          const prefix = `bench-${run}-${n}`;
          const proxies = await Promise.all(
            Array.from({ length: n }, () => instance(target, prefix, [...capArgs, ...queueArgs])),
          );
          try {
            const figures = await throughInstances(
              proxies.map((proxy) => proxy.url),
              size,
              admin,
            );
            measures[`e2e_${n}_tps`] = figures.tps;
            measures[`drain_${n}_tps`] = figures.drainTps;
            if (n === 1) {
              measures.commands_per_task = figures.commandsPerTask;
              measures.scripts_per_task = figures.scriptsPerTask;
              measures.redis_us_per_task = figures.redisUsPerTask;
            }
          } finally {
            await Promise.all(proxies.map((proxy) => proxy.stop()));
          }
          await admin.flushdb();
        }

        const never = await startTarget({ delayMs: 3_600_000 });
        const proxy = await instance(never, `bench-${run}-submit`, [
          ...['--max-concurrent', '1', '--num-workers', '1', '--max-queue-size', '1000000'],
        ]);
        try {
          measures.submit_rps = await submitRate(proxy, size);
        } finally {
          await proxy.stop();
          await never.stop();
        }
        await admin.flushdb();
        const raw = await runBullmq('bullmq-add.mjs', [
          ...['--redis', redis.url, '--concurrency', String(SUBMIT_CONNECTIONS)],
          ...['--duration-s', String(size.durationS), '--warmup-s', String(size.warmupS)],
        ]);
        measures.bullmq_add_rps = Number(raw.adds_per_s);
        await admin.flushdb();
        const alone = await runBullmq('bullmq-pipeline.mjs', [
          ...['--redis', redis.url, '--target', target.url, '--cap', String(CAP)],
          ...['--tasks', String(size.tasks), '--warmup', String(size.warmup)],
          ...['--submitters', String(DRIVER_CONCURRENCY)],
        ]);
        measures.bullmq_tps = Number(alone.tps);
        await admin.flushdb();

        const rate = (/** @type {number | undefined} */ tps) =>
          tps === undefined ? 'n/a' : `${Math.round(tps)}/s`;
        ctx.log(
          `redis: ${INSTANCES.map((n) => `${n} instance(s) ${rate(measures[`e2e_${n}_tps`])}`).join(', ')}; ` +
            `BullMQ alone ${rate(measures.bullmq_tps)}; ` +
            `submit ${rate(measures.submit_rps)} vs BullMQ add ${rate(measures.bullmq_add_rps)}; ` +
            `${measures.commands_per_task?.toFixed(1)} commands per task`,
        );
        return measures;
      },
      async stop() {
        admin.disconnect();
        await target.stop();
        await redis.stop();
      },
    };
  },
};
