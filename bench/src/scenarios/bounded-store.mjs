// @ts-check
// Scenario 5d: what a client can make the proxy hold. Lists carry results without their
// bodies, so a page costs the same whether the results are 1 KB or 1 MB; and --max-tasks
// bounds the store, so a steady stream of tasks leaves the proxy's memory flat.
import { now, openPool, runConcurrently } from '../load.mjs';
import { rssBytes } from '../proc-stats.mjs';
import { startProxy, startTarget } from '../processes.mjs';
import { submitTask, waitForFinished } from '../proxy-api.mjs';
import { settledRss } from './memory.mjs';
import { answerBytes, floorP99, timeReads } from './read-latency.mjs';

/** @typedef {import('../scenario.d.ts').Scenario} Scenario */

const SUBMITTERS = 64;
const SMALL_RESULT = '/api/size?bytes=1013';
const BIG_RESULT = '/api/size?bytes=1048566';
const LIST = '/tasks?limit=100';
const LIMITS_MS = { small: 5, big: 10 };
const FLAT_FACTOR = 1.1;
/** RSS is read after each of this many equal parts of the stream. */
const STEPS = 4;
/** @param {boolean} quick */
const sizes = (quick) =>
  quick
    ? {
        held: 10_000,
        big: 100,
        cap: 2_000,
        stream: 10_000,
        samples: 200,
        warmupReads: 50,
        settleMs: 1_000,
      }
    : {
        held: 100_000,
        big: 200,
        cap: 10_000,
        stream: 100_000,
        samples: 1_000,
        warmupReads: 200,
        settleMs: 3_000,
      };

/** @param {number} n */
const short = (n) => (n >= 1_000 ? `${Math.round(n / 1_000)}k` : String(Math.round(n)));

/** @type {Scenario} */
export const boundedStore = {
  id: 'bounded-store',
  title: '5d. Lists of big results, and a store bounded by --max-tasks',
  describe(quick) {
    const { held, big, cap, stream, samples } = sizes(quick);
    return (
      `One proxy (memory store, --max-concurrent 50, no cap) holding ${short(held)} finished tasks ` +
      `with 1 KB results, then ${big} more with 1 MB results on top (so the newest page is all ` +
      `1 MB results): ${samples.toLocaleString('en-US')} sequential reads of GET ${LIST} after each, and as many of the first page, its bytes ` +
      'served by a bare node:http server on the same CPU once the proxy has stopped (the floor for ' +
      'that size of answer on this machine). ' +
      `Then a fresh proxy with --max-tasks ${cap.toLocaleString('en-US')} fed ` +
      `${stream.toLocaleString('en-US')} tasks with 1 KB results in batches of ${(cap / 4).toLocaleString('en-US')}, ` +
      'each run out before the next is sent, its RSS read (steady) after each quarter of them. ' +
      'The store is full from the first quarter on; bounded means no growth once it has run a while, ' +
      'so the target is on the second half of the stream (the first quarter still holds the ' +
      'heap growing to its working size).'
    );
  },
  rows: (quick) => {
    const { held, cap, stream } = sizes(quick);
    return [
      {
        id: 'list-small',
        label: `${LIST} p99, ${short(held)} tasks with 1 KB results`,
        measure: 'list_small_p99_ms',
        unit: 'ms',
        limit: { label: 'ceiling', value: LIMITS_MS.small },
        target: { on: 'ratio', op: '<=', value: 1 },
      },
      {
        id: 'list-floor',
        label: 'the same page from a bare node:http server that keeps its bytes: p99',
        measure: 'list_floor_p99_ms',
        unit: 'ms',
        limit: { label: 'ceiling', value: LIMITS_MS.small },
      },
      {
        id: 'list-big',
        label: `${LIST} p99, the newest page all 1 MB results`,
        measure: 'list_big_p99_ms',
        unit: 'ms',
        limit: { label: 'ceiling', value: LIMITS_MS.big },
        target: { on: 'ratio', op: '<=', value: 1 },
      },
      {
        id: 'rss-first',
        label: `RSS after ${short(stream / STEPS)} tasks under --max-tasks ${short(cap)}`,
        measure: 'rss_first_mib',
        unit: 'MiB',
      },
      {
        id: 'rss-middle',
        label: `RSS after ${short(stream / 2)} tasks under --max-tasks ${short(cap)}`,
        measure: 'rss_middle_mib',
        unit: 'MiB',
      },
      {
        id: 'rss-last',
        label: `RSS after ${short(stream)} tasks under --max-tasks ${short(cap)}`,
        measure: 'rss_last_mib',
        unit: 'MiB',
      },
      {
        id: 'rss-growth-all',
        label: `RSS growth from ${short(stream / STEPS)} to ${short(stream)} tasks`,
        measure: 'rss_growth_all',
        unit: '×',
      },
      {
        id: 'rss-growth',
        label: `RSS growth from ${short(stream / 2)} to ${short(stream)} tasks (bounded: ≤ ${FLAT_FACTOR})`,
        measure: 'rss_growth',
        unit: '×',
        target: { on: 'figure', op: '<=', value: FLAT_FACTOR },
      },
    ];
  },
  async start(ctx) {
    const { held, big, cap, stream, settleMs, ...counts } = sizes(ctx.quick);
    const target = await startTarget();
    return {
      unavailable: {},
      async runOnce() {
        /** @type {Record<string, number>} */
        const measures = {};
        let proxy = await startProxy({
          target,
          args: [
            '--max-concurrent',
            '50',
            '--num-workers',
            '50',
            '--max-queue-size',
            String(held + big),
            '--retention',
            '0',
            '--max-tasks',
            '0',
          ],
          heapMiB: 4096,
        });
        let pool = openPool(proxy.url, SUBMITTERS);
        const reader = openPool(proxy.url, 1);
        let page = Buffer.alloc(0);
        try {
          await runConcurrently(held, SUBMITTERS, () =>
            submitTask(pool, SMALL_RESULT, { method: 'GET' }),
          );
          await waitForFinished(pool, held, { timeoutMs: 600_000, intervalMs: 200 });
          measures.list_small_p99_ms = (await timeReads(reader, LIST, counts)).p99;
          page = await answerBytes(reader, LIST);
          await runConcurrently(big, 8, () => submitTask(pool, BIG_RESULT, { method: 'GET' }));
          await waitForFinished(pool, held + big, { timeoutMs: 600_000, intervalMs: 200 });
          measures.list_big_p99_ms = (await timeReads(reader, LIST, counts)).p99;
        } finally {
          await Promise.all([pool.close(), reader.close()]);
          await proxy.stop();
        }
        // With the proxy gone, so that its collector's idle-time work cannot weigh on the floor.
        measures.list_floor_p99_ms = await floorP99(page, LIST, counts);
        ctx.log(
          `bounded-store: ${LIST} p99 ${measures.list_small_p99_ms.toFixed(2)} ms (1 KB; the same ` +
            `page from a bare server ${measures.list_floor_p99_ms.toFixed(2)} ms), ` +
            `${measures.list_big_p99_ms.toFixed(2)} ms (1 MB results)`,
        );

        proxy = await startProxy({
          target,
          args: [
            '--max-concurrent',
            '50',
            '--num-workers',
            '50',
            '--max-queue-size',
            String(cap),
            '--retention',
            '0',
            '--max-tasks',
            String(cap),
          ],
        });
        pool = openPool(proxy.url, SUBMITTERS);
        try {
          const part = Math.round(stream / STEPS);
          const started = now();
          // In batches of a quarter of the cap, each run out before the next, so the stream never
          // holds more unfinished tasks than the cap allows (a burst would be refused, rightly).
          const batch = cap / 4;
          let sent = 0;
          for (let step = 1; step <= STEPS; step++) {
            while (sent < part * step) {
              const size = Math.min(batch, part * step - sent);
              await runConcurrently(size, SUBMITTERS, () =>
                submitTask(pool, SMALL_RESULT, { method: 'GET' }),
              );
              sent += size;
              await waitForFinished(pool, sent, { timeoutMs: 600_000, intervalMs: 50 });
            }
            const rss = (await settledRss(proxy.pid, settleMs)) / 2 ** 20;
            if (step === 1) measures.rss_first_mib = rss;
            if (step === STEPS / 2) measures.rss_middle_mib = rss;
            if (step === STEPS) measures.rss_last_mib = rss;
          }
          const last = /** @type {number} */ (measures.rss_last_mib);
          measures.rss_growth_all = last / /** @type {number} */ (measures.rss_first_mib);
          measures.rss_growth = last / /** @type {number} */ (measures.rss_middle_mib);
          ctx.log(
            `bounded-store: under --max-tasks ${cap} RSS ${measures.rss_first_mib?.toFixed(0)} → ` +
              `${measures.rss_last_mib?.toFixed(0)} MiB over ${stream} tasks in ${((now() - started) / 1000).toFixed(1)} s ` +
              `(now ${((await rssBytes(proxy.pid)) / 2 ** 20).toFixed(0)} MiB)`,
          );
        } finally {
          await pool.close();
          await proxy.stop();
        }
        return measures;
      },
      stop: () => target.stop(),
    };
  },
};
