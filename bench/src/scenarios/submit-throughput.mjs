// @ts-check
// Scenario 1: how fast the proxy accepts work, against the framework's own limit. The target
// is too slow to drain anything, so every submission stays queued and the figure is the
// submit path alone: read and validate the body, create the task, enqueue, answer 202.
import autocannon from 'autocannon';
import { cpuSeconds } from '../proc-stats.mjs';
import { serversOnOneCpu, startBareFastify, startProxy, startTarget } from '../processes.mjs';

/** @typedef {import('../scenario.d.ts').Scenario} Scenario */

/** A JSON body of exactly 1,024 bytes. */
export function oneKilobyteJson() {
  const base = JSON.stringify({ model: 'bench', input: '' });
  return JSON.stringify({ model: 'bench', input: 'x'.repeat(1024 - base.length) });
}

const CONNECTIONS = 50;
/** Room for every submission of a run (10 s at well over 50,000/s) without a 503. */
const QUEUE_SIZE = 1_000_000;
/** @param {boolean} quick */
const sizes = (quick) => (quick ? { warmupS: 1, durationS: 1 } : { warmupS: 2, durationS: 10 });

/**
 * Requests per second answered 202, their p99 latency and the server's CPU time per answer;
 * any other answer invalidates the run.
 * @param {import('../processes.mjs').Server} server
 * @param {number} durationS
 * @param {string} body
 */
async function hammer(server, durationS, body) {
  const url = server.url;
  const cpu0 = await cpuSeconds(server.pid);
  const result = await autocannon({
    url: `${url}/api/x`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: CONNECTIONS,
    duration: durationS,
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(
      `${url}: ${result.non2xx} non-2xx answers and ${result.errors} errors in ${durationS} s ` +
        `(status codes: ${JSON.stringify(result.statusCodeStats)})`,
    );
  }
  const cpuS = (await cpuSeconds(server.pid)) - cpu0;
  return {
    rps: result['2xx'] / result.duration,
    p99: result.latency.p99,
    cpuUsPerRequest: (cpuS * 1e6) / result['2xx'],
    busy: cpuS / result.duration,
  };
}

/** @type {Scenario} */
export const submitThroughput = {
  id: 'submit',
  title: '1. Submit throughput',
  describe(quick) {
    const { durationS } = sizes(quick);
    return (
      `autocannon, ${CONNECTIONS} connections, ${durationS} s per server after a warm-up: ` +
      'POST /api/x with a 1,024-byte JSON body. The proxy (memory store, then the default SQLite store; --max-concurrent 1, ' +
      `--max-queue-size ${QUEUE_SIZE.toLocaleString('en-US')}, --max-tasks 0) forwards to a target that ` +
      'answers after an hour, so every task stays queued; the limit is a bare Fastify 5 route that parses the same body and ' +
      'answers the same 202 body with a response schema; the same route that also keeps every ' +
      'body and a small record in a Map (`--keep`) shows what holding tasks costs at all. CPU ' +
      'time from /proc over the measured seconds. The target is judged per CPU-second: each ' +
      'server has a core of its own and is CPU-bound, so on an otherwise idle machine the two ' +
      'throughputs agree, and on a shared one only the CPU figure survives other work taking ' +
      'the core. Fresh processes each run; bare Fastify runs just before and just after the ' +
      'proxy, and the limit is the mean of the two. On one CPU every Node server runs with ' +
      '`--single-threaded-gc`, as docs/operations.md recommends there; the last rows show the ' +
      'proxy without it.'
    );
  },
  rows: () => [
    {
      id: 'proxy-cpu-rate',
      label: 'proxy: 202 answers per CPU-second',
      measure: 'proxy_per_cpu_s',
      unit: 'req/s',
      limit: { label: 'bare Fastify 202', measure: 'bare_per_cpu_s' },
      target: { on: 'ratio', op: '>=', value: 0.7 },
    },
    {
      id: 'proxy',
      label: 'proxy: 202 answers per second of wall clock',
      measure: 'proxy_rps',
      unit: 'req/s',
      limit: { label: 'bare Fastify 202', measure: 'bare_rps' },
    },
    {
      id: 'proxy-busy',
      label: 'proxy: share of its core it used (below 1: it was waiting, or the core was taken)',
      measure: 'proxy_busy',
      unit: '',
      limit: { label: 'bare Fastify 202', measure: 'bare_busy' },
    },
    {
      id: 'proxy-cpu',
      label: 'proxy: CPU time per accepted submission',
      measure: 'proxy_cpu_us',
      unit: 'µs',
      limit: { label: 'bare Fastify 202', measure: 'bare_cpu_us' },
    },
    {
      id: 'proxy-p99',
      label: 'proxy: submit latency p99',
      measure: 'proxy_p99_ms',
      unit: 'ms',
      limit: { label: 'bare Fastify 202', measure: 'bare_p99_ms' },
    },
    {
      id: 'sqlite-cpu-rate',
      label: 'proxy on SQLite (the default store): 202 answers per CPU-second',
      measure: 'sqlite_per_cpu_s',
      unit: 'req/s',
      limit: { label: 'proxy on the memory store', measure: 'proxy_per_cpu_s' },
      target: { on: 'ratio', op: '>=', value: 0.7 },
    },
    {
      id: 'sqlite-cpu',
      label: 'proxy on SQLite: CPU time per accepted submission',
      measure: 'sqlite_cpu_us',
      unit: 'µs',
      limit: { label: 'proxy on the memory store', measure: 'proxy_cpu_us' },
    },
    {
      id: 'sqlite-p99',
      label: 'proxy on SQLite: submit latency p99',
      measure: 'sqlite_p99_ms',
      unit: 'ms',
      limit: { label: 'proxy on the memory store', measure: 'proxy_p99_ms' },
    },
    {
      id: 'keeping-cpu-rate',
      label: 'bare Fastify that also keeps each body in a Map: answers per CPU-second',
      measure: 'keeping_per_cpu_s',
      unit: 'req/s',
      limit: { label: 'bare Fastify 202', measure: 'bare_per_cpu_s' },
    },
    {
      id: 'keeping-cpu',
      label: 'bare Fastify that also keeps each body: CPU time per request',
      measure: 'keeping_cpu_us',
      unit: 'µs',
      limit: { label: 'bare Fastify 202', measure: 'bare_cpu_us' },
    },
    {
      id: 'parallel-gc-cpu-rate',
      label: "proxy with V8's GC helper threads on its one CPU: answers per CPU-second",
      measure: 'parallel_gc_per_cpu_s',
      unit: 'req/s',
      limit: { label: 'bare Fastify 202', measure: 'bare_per_cpu_s' },
    },
    {
      id: 'parallel-gc-cpu',
      label: "proxy with V8's GC helper threads on its one CPU: CPU time per submission",
      measure: 'parallel_gc_cpu_us',
      unit: 'µs',
      limit: { label: 'bare Fastify 202', measure: 'bare_cpu_us' },
    },
  ],
  async start(ctx) {
    const { warmupS, durationS } = sizes(ctx.quick);
    const body = oneKilobyteJson();
    const target = await startTarget({ delayMs: 3_600_000 });
    const oneCpu = serversOnOneCpu();
    const notOneCpu = 'the servers are not on a single CPU, so they keep V8 defaults anyway';
    /** @type {Record<string, string>} */
    const unavailable = oneCpu
      ? {}
      : { parallel_gc_per_cpu_s: notOneCpu, parallel_gc_cpu_us: notOneCpu };
    return {
      unavailable,
      async runOnce() {
        const measureBare = async (/** @type {boolean} */ keep) => {
          const bare = await startBareFastify({ keep, profileDir: ctx.profileDir });
          try {
            await hammer(bare, warmupS, body);
            return await hammer(bare, durationS, body);
          } finally {
            await bare.stop();
          }
        };
        const keepingFigures = await measureBare(true);
        const proxyArgs = [
          '--max-concurrent',
          '1',
          '--num-workers',
          '1',
          '--max-queue-size',
          String(QUEUE_SIZE),
          // Every submission stays pending here: no cap on tasks held, or the store's default
          // (100,000 in memory) would refuse the rest of the burst.
          '--max-tasks',
          '0',
        ];
        /** @type {Record<string, number>} */
        const parallelGc = {};
        if (oneCpu) {
          const proxy = await startProxy({ target, args: proxyArgs, parallelGc: true });
          try {
            await hammer(proxy, warmupS, body);
            const figures = await hammer(proxy, durationS, body);
            parallelGc.parallel_gc_cpu_us = figures.cpuUsPerRequest;
            parallelGc.parallel_gc_per_cpu_s = 1e6 / figures.cpuUsPerRequest;
          } finally {
            await proxy.stop();
          }
        }
        // Bare, proxy, bare again, and the limit is the mean of both bare runs: a machine whose
        // speed drifts over the half minute between them then moves both sides alike.
        const bareBefore = await measureBare(false);
        const proxy = await startProxy({ target, args: proxyArgs, profileDir: ctx.profileDir });
        let proxyFigures;
        try {
          await hammer(proxy, warmupS, body);
          proxyFigures = await hammer(proxy, durationS, body);
        } finally {
          await proxy.stop();
        }
        const sqlite = await startProxy({
          target,
          args: proxyArgs,
          profileDir: ctx.profileDir,
          store: 'sqlite',
        });
        let sqliteFigures;
        try {
          await hammer(sqlite, warmupS, body);
          sqliteFigures = await hammer(sqlite, durationS, body);
        } finally {
          await sqlite.stop();
        }
        const bareAfter = await measureBare(false);
        const bareFigures = {
          rps: (bareBefore.rps + bareAfter.rps) / 2,
          p99: (bareBefore.p99 + bareAfter.p99) / 2,
          cpuUsPerRequest: (bareBefore.cpuUsPerRequest + bareAfter.cpuUsPerRequest) / 2,
          busy: (bareBefore.busy + bareAfter.busy) / 2,
        };
        ctx.log(
          `submit: proxy ${Math.round(proxyFigures.rps)} req/s (${proxyFigures.cpuUsPerRequest.toFixed(1)} µs CPU each, ` +
            `core ${proxyFigures.busy.toFixed(2)} busy), on SQLite ${Math.round(sqliteFigures.rps)} req/s ` +
            `(${sqliteFigures.cpuUsPerRequest.toFixed(1)} µs), bare ${Math.round(bareFigures.rps)} req/s ` +
            `(${bareFigures.cpuUsPerRequest.toFixed(1)} µs, ${bareFigures.busy.toFixed(2)})`,
        );
        return {
          proxy_rps: proxyFigures.rps,
          bare_rps: bareFigures.rps,
          proxy_p99_ms: proxyFigures.p99,
          bare_p99_ms: bareFigures.p99,
          proxy_cpu_us: proxyFigures.cpuUsPerRequest,
          bare_cpu_us: bareFigures.cpuUsPerRequest,
          keeping_cpu_us: keepingFigures.cpuUsPerRequest,
          proxy_per_cpu_s: 1e6 / proxyFigures.cpuUsPerRequest,
          bare_per_cpu_s: 1e6 / bareFigures.cpuUsPerRequest,
          keeping_per_cpu_s: 1e6 / keepingFigures.cpuUsPerRequest,
          proxy_busy: proxyFigures.busy,
          bare_busy: bareFigures.busy,
          sqlite_per_cpu_s: 1e6 / sqliteFigures.cpuUsPerRequest,
          sqlite_cpu_us: sqliteFigures.cpuUsPerRequest,
          sqlite_p99_ms: sqliteFigures.p99,
          ...parallelGc,
        };
      },
      stop: () => target.stop(),
    };
  },
};
