// @ts-check
// Scenario 6a: many clients each following one task over Server-Sent Events. The tasks wait in
// the queue behind blockers holding every slot while the streams open, so the RSS the streams
// cost is read on an otherwise idle proxy; cancelling the blockers then lets the tasks run, and
// each stream's final event is timed against the task's completed_at.
import http from 'node:http';
import { openPool, runConcurrently } from '../load.mjs';
import { rssBytes } from '../proc-stats.mjs';
import { startProxy, startTarget } from '../processes.mjs';
import { submitTask, waitForFinished } from '../proxy-api.mjs';
import { percentile } from '../stats.mjs';
import { settledRss } from './memory.mjs';

/** @typedef {import('../scenario.d.ts').Scenario} Scenario */

const CAP = 50;
const TASK_MS = 100;
/** Longer than any run: a blocker ends only when it is cancelled. */
const BLOCKER_MS = 600_000;
const OPENERS = 200;
/** @param {boolean} quick */
const sizes = (quick) =>
  quick ? { streams: 1_000, settleMs: 1_000 } : { streams: 10_000, settleMs: 3_000 };
/** Dashboards on `GET /events` while a burst of submissions comes and runs. */
const WATCHERS = 250;
/** @param {boolean} quick */
const burstSize = (quick) => (quick ? 200 : 1_000);
const BURST_TASK_MS = 200;

/**
 * @typedef {object} OpenStream
 * @property {Promise<{ receivedAt: number, body: string }>} ended the whole stream, once the
 *   proxy ends it after the final event
 * @property {() => void} destroy
 */

/**
 * Opens `GET /task/:id/events` on a connection of its own and resolves once the proxy has
 * answered 200 (the stream is registered).
 * @param {string} origin
 * @param {string} taskId
 * @returns {Promise<OpenStream>}
 */
function openStream(origin, taskId) {
  return new Promise((resolve, reject) => {
    const req = http.get(`${origin}/task/${taskId}/events`, { agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`GET /task/${taskId}/events answered ${res.statusCode}`));
        return;
      }
      res.setEncoding('utf8');
      let body = '';
      const ended = new Promise((resolveEnd, rejectEnd) => {
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.once('end', () => resolveEnd({ receivedAt: Date.now(), body }));
        res.once('error', rejectEnd);
      });
      resolve({ ended, destroy: () => req.destroy() });
    });
    req.once('error', reject);
  });
}

/**
 * The task of the last `data:` line of a stream, which for a task stream is the finished task.
 * @param {string} body
 * @returns {import('proxy-client/wire').Task}
 */
function finalTask(body) {
  const lines = body.split('\n').filter((line) => line.startsWith('data: '));
  const last = lines[lines.length - 1];
  if (!last) throw new Error(`a stream ended without an event: ${body.slice(0, 200)}`);
  return JSON.parse(last.slice('data: '.length));
}

/**
 * @param {import('undici').Pool} pool
 * @param {string} taskId
 */
async function cancel(pool, taskId) {
  const res = await pool.request({ path: `/task/${taskId}`, method: 'DELETE' });
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error(`DELETE /task/${taskId} answered ${res.statusCode}`);
}

/**
 * Opens `GET /events` on a connection of its own and counts the messages it carries.
 * @param {string} origin
 * @returns {Promise<{ messages: () => number, destroy: () => void }>}
 */
function watchEvents(origin) {
  return new Promise((resolve, reject) => {
    const req = http.get(`${origin}/events`, { agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`GET /events answered ${res.statusCode}`));
        return;
      }
      let messages = 0;
      let tail = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        const text = tail + chunk;
        const parts = text.split('\n\n');
        tail = parts.pop() ?? '';
        messages += parts.filter((part) => /^event: /m.test(part)).length;
      });
      res.on('error', () => {});
      resolve({ messages: () => messages, destroy: () => req.destroy() });
    });
    req.once('error', reject);
  });
}

/**
 * `WATCHERS` streams on `GET /events` while `count` submissions come at once and run: the
 * proxy's peak RSS over its RSS before the burst (sampled every 100 ms), and every message
 * counted at every watcher (three per task: created, started, finished).
 * @param {import('../processes.mjs').Server} target
 * @param {number} count
 * @param {string | undefined} profileDir
 */
async function watchedBurst(target, count, profileDir) {
  const proxy = await startProxy({
    target,
    store: 'sqlite',
    profileDir,
    args: ['--max-concurrent', '20', '--num-workers', '20', '--max-queue-size', String(count)],
  });
  const pool = openPool(proxy.url, 64);
  /** @type {Awaited<ReturnType<typeof watchEvents>>[]} */
  const watchers = [];
  try {
    await runConcurrently(WATCHERS, 50, async () => {
      watchers.push(await watchEvents(proxy.url));
    });
    const before = await rssBytes(proxy.pid);
    let peak = before;
    const sampler = setInterval(() => {
      rssBytes(proxy.pid).then(
        (rss) => {
          peak = Math.max(peak, rss);
        },
        () => {},
      );
    }, 100);
    try {
      await runConcurrently(count, 200, () =>
        submitTask(pool, `/api/function1?delay_ms=${BURST_TASK_MS}`, { method: 'GET' }),
      );
      await waitForFinished(pool, count, { timeoutMs: 120_000, intervalMs: 50 });
      const expected = 3 * count;
      const deadline = Date.now() + 30_000;
      while (watchers.some((watcher) => watcher.messages() < expected)) {
        if (Date.now() > deadline) {
          const short = watchers.filter((watcher) => watcher.messages() < expected).length;
          throw new Error(`${short} of ${WATCHERS} watchers had fewer than ${expected} events`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      clearInterval(sampler);
    }
    return (peak - before) / 2 ** 20;
  } finally {
    for (const watcher of watchers) watcher.destroy();
    await pool.close();
    await proxy.stop();
  }
}

/** @type {Scenario} */
export const eventStreams = {
  id: 'event-streams',
  title: '6a. Event streams: one per queued task',
  describe(quick) {
    const { streams, settleMs } = sizes(quick);
    return (
      `Default (SQLite) store, cap ${CAP}. ${CAP} blockers hold every slot while ` +
      `${streams.toLocaleString('en-US')} tasks (${TASK_MS} ms each) wait in the queue and each ` +
      `gets its own GET /task/:id/events stream on its own connection. RSS per stream: the ` +
      `proxy's RSS growth from opening the streams (each read once it has not moved by 1% for ` +
      `${settleMs / 1000} s), divided by the streams. Then the blockers are cancelled and the ` +
      `tasks run; completion to event: when the driver reads the end of a task's stream ` +
      `(after its final event) minus the task's completed_at, both wall clocks of this machine. ` +
      `Then, on a fresh proxy (cap 20), ${WATCHERS} dashboards follow GET /events while ` +
      `${burstSize(quick).toLocaleString('en-US')} submissions of ${BURST_TASK_MS} ms tasks come ` +
      `at once and run; every watcher must receive every event (three per task); the figure is ` +
      `the proxy's peak RSS, sampled every 100 ms, over its RSS before the burst.`
    );
  },
  rows: () => [
    {
      id: 'rss-per-stream',
      label: 'RSS per open stream',
      measure: 'rss_per_stream_kib',
      unit: 'KiB',
    },
    {
      id: 'event-p50',
      label: 'Completion to final event, p50',
      measure: 'event_p50_ms',
      unit: 'ms',
    },
    {
      id: 'event-p99',
      label: 'Completion to final event, p99',
      measure: 'event_p99_ms',
      unit: 'ms',
    },
    {
      id: 'watchers-peak-rss',
      label: `Peak RSS growth with ${WATCHERS} /events streams through the burst`,
      measure: 'watchers_peak_rss_mib',
      unit: 'MiB',
    },
  ],
  async start(ctx) {
    const { streams: count, settleMs } = sizes(ctx.quick);
    const target = await startTarget({ delayMs: TASK_MS });
    const taskStreams = async () => {
      const proxy = await startProxy({
        target,
        store: 'sqlite',
        profileDir: ctx.profileDir,
        args: [
          '--max-concurrent',
          String(CAP),
          '--num-workers',
          String(CAP),
          '--max-queue-size',
          String(count + CAP),
        ],
      });
      const pool = openPool(proxy.url, 64);
      /** @type {OpenStream[]} */
      const streams = [];
      try {
        const blockers = await runConcurrently(CAP, CAP, () =>
          submitTask(pool, `/api/function1?delay_ms=${BLOCKER_MS}`, { method: 'GET' }),
        );
        const ids = await runConcurrently(count, 64, () =>
          submitTask(pool, '/api/function1', { method: 'GET' }),
        );
        const before = await settledRss(proxy.pid, settleMs);
        await runConcurrently(count, OPENERS, async (i) => {
          streams.push(await openStream(proxy.url, /** @type {string} */ (ids[i])));
        });
        const after = await settledRss(proxy.pid, settleMs);

        await runConcurrently(CAP, CAP, (i) => cancel(pool, /** @type {string} */ (blockers[i])));
        const ends = await Promise.all(streams.map((stream) => stream.ended));
        const delays = ends.map(({ receivedAt, body }) => {
          const task = finalTask(body);
          if (task.status !== 'completed') throw new Error(`a task ended ${task.status}`);
          return receivedAt - Date.parse(task.completed_at ?? '');
        });
        await waitForFinished(pool, count, { timeoutMs: 60_000, intervalMs: 50 });
        const measures = {
          rss_per_stream_kib: (after - before) / count / 1024,
          event_p50_ms: percentile(delays, 50),
          event_p99_ms: percentile(delays, 99),
        };
        ctx.log(
          `event streams: ${count} open, ${measures.rss_per_stream_kib.toFixed(1)} KiB each; ` +
            `completion to event p50 ${measures.event_p50_ms} ms, p99 ${measures.event_p99_ms} ms`,
        );
        return measures;
      } finally {
        for (const stream of streams) stream.destroy();
        await pool.close();
        await proxy.stop();
      }
    };
    return {
      unavailable: {},
      async runOnce() {
        const measures = await taskStreams();
        const peak = await watchedBurst(target, burstSize(ctx.quick), ctx.profileDir);
        ctx.log(`${WATCHERS} /events streams through the burst: peak RSS +${peak.toFixed(0)} MiB`);
        return { ...measures, watchers_peak_rss_mib: peak };
      },
      stop: () => target.stop(),
    };
  },
};
