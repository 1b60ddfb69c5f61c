// Submit 100 jobs with at most CONCURRENCY of them in the caller's hands at once, and show a
// progress line on stderr while they finish.
//
//   PROXY_URL=http://localhost:8080 pnpm --filter proxy-examples batch
//
// Bounding the client keeps the proxy's queue from overflowing when the batch is larger than
// --max-queue-size; queueFullRetries covers the moments when other callers fill it anyway.
import type { Task } from 'proxy-client';
import { client, Surprise } from './client.js';

/** A whole number ≥ 1 from the environment; anything else ends the run with a usage error. */
function countFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (/^\s*\d+\s*$/.test(raw) && Number.isSafeInteger(value) && value >= 1) return value;
  console.error(`batch: ${name} must be a whole number, 1 or more, got '${raw}'`);
  process.exit(2);
}

const TOTAL = countFrom('BATCH_SIZE', 100);
const CONCURRENCY = countFrom('BATCH_CONCURRENCY', 20);

let done = 0;
let failed = 0;
const started = Date.now();
// In a log each update is a line of its own: one per tenth of the batch, not one per task.
const LOG_EVERY = Math.max(1, Math.floor(TOTAL / 10));
const progress = () => {
  if (!process.stderr.isTTY && done % LOG_EVERY !== 0 && done !== TOTAL) return;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const line = `${done}/${TOTAL} done, ${failed} failed, ${seconds} s`;
  // \r rewrites the line in a terminal.
  process.stderr.write(process.stderr.isTTY ? `\r${line}` : `${line}\n`);
};

/** Submitted and not yet seen finished: on Ctrl-C they run on at the proxy. */
const unfinished = new Set<string>();
process.once('SIGINT', () => {
  if (process.stderr.isTTY) process.stderr.write('\n');
  console.error(
    `batch: interrupted; ${unfinished.size === 1 ? '1 submitted task runs' : `${unfinished.size} submitted tasks run`} on at the proxy:\n` +
      [...unfinished].map((id) => `  ${id}\n`).join('') +
      '  proxy-cli cancel <id> stops one; proxy-cli list --status pending shows what waits',
  );
  process.exit(130);
});

async function runOne(index: number): Promise<Task> {
  const taskId = await client.submitTask(
    'api/function1',
    { item: index, delay_ms: 200 },
    { queueFullRetries: 5 },
  );
  unfinished.add(taskId);
  // Said though it is the default: a failed task comes back as a task, so one bad item does not
  // end the batch, and a reader changing the option sees what it decides.
  const task = await client.waitForTask(taskId, { throwOnFailure: false });
  unfinished.delete(taskId);
  done++;
  if (task.status === 'failed') failed++;
  progress();
  return task;
}

/** Runs `work` over 0..total-1 with at most `limit` calls pending at once, in index order. */
async function mapBounded<T>(total: number, limit: number, work: (i: number) => Promise<T>) {
  const results = new Array<T>(total);
  let next = 0;
  const lane = async () => {
    while (next < total) {
      const index = next++;
      results[index] = await work(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, total) }, lane));
  return results;
}

const tasks = await mapBounded(TOTAL, CONCURRENCY, runOne);
if (process.stderr.isTTY) process.stderr.write('\n');

const completed = tasks.filter((t) => t.status === 'completed').length;
console.log(JSON.stringify({ total: TOTAL, completed, failed }));
if (completed !== TOTAL)
  throw new Surprise(`${TOTAL - completed} of ${TOTAL} tasks did not complete`);
