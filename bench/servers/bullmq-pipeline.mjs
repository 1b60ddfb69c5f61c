#!/usr/bin/env node
// @ts-check
// The limit of running tasks on Redis: BullMQ alone, with the proxy's cap and target. One Node
// process adds `--tasks` jobs (after `--warmup` of them) with `--submitters` adds in flight, and
// a Worker in the same process runs them, `--cap` at once under BullMQ's global concurrency, each
// a GET to `--target`; timed from the first add until the last job completed. Prints one JSON
// line, { tps }, and exits.
import { parseArgs } from 'node:util';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Pool } from 'undici';

const { values } = parseArgs({
  options: {
    redis: { type: 'string' },
    target: { type: 'string' },
    prefix: { type: 'string', default: 'bench-pipeline' },
    cap: { type: 'string', default: '50' },
    tasks: { type: 'string', default: '10000' },
    warmup: { type: 'string', default: '500' },
    submitters: { type: 'string', default: '200' },
  },
});
if (!values.redis || !values.target)
  throw new Error('--redis <url> and --target <url> are required');
const cap = Number(values.cap);

const connection = () => new Redis(String(values.redis), { maxRetriesPerRequest: null });
const queue = new Queue('pipeline', {
  connection: connection(),
  prefix: values.prefix,
  defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
});
await queue.setGlobalConcurrency(cap);
const target = new Pool(values.target, { connections: cap, headersTimeout: 0, bodyTimeout: 0 });
let completed = 0;
/** @type {(() => void) | null} */
let onCompleted = null;
const worker = new Worker(
  'pipeline',
  async () => {
    const res = await target.request({ path: '/api/function1', method: 'GET' });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`target answered ${res.statusCode}`);
  },
  { connection: connection(), prefix: values.prefix, concurrency: cap },
);
worker.on('completed', () => {
  completed++;
  onCompleted?.();
});

/** @param {number} count */
async function run(count) {
  const until = completed + count;
  const done = new Promise((resolve) => {
    onCompleted = () => {
      if (completed >= until) resolve(undefined);
    };
  });
  let next = 0;
  const lane = async () => {
    while (next++ < count) await queue.add('task', {});
  };
  await Promise.all(Array.from({ length: Number(values.submitters) }, lane));
  await done;
}

await run(Number(values.warmup));
const started = performance.now();
await run(Number(values.tasks));
const seconds = (performance.now() - started) / 1000;
process.stdout.write(`${JSON.stringify({ tps: Number(values.tasks) / seconds })}\n`);
await worker.close();
await queue.close();
await target.close();
process.exit(0);
