#!/usr/bin/env node
// @ts-check
// The limit of submitting on Redis: BullMQ's own `Queue.add`, as fast as one process can call it
// with `--concurrency` adds in flight, for `--duration-s` seconds after `--warmup-s`. Prints one
// JSON line, { adds_per_s, cpu_us_per_add }, and exits. The bench runs it on the servers' CPUs,
// where the proxy it is compared with runs.
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

const { values } = parseArgs({
  options: {
    redis: { type: 'string' },
    prefix: { type: 'string', default: 'bench-raw' },
    concurrency: { type: 'string', default: '50' },
    'duration-s': { type: 'string', default: '10' },
    'warmup-s': { type: 'string', default: '2' },
    'body-bytes': { type: 'string', default: '1024' },
  },
});
if (!values.redis) throw new Error('--redis <url> is required');

const connection = new Redis(values.redis, { maxRetriesPerRequest: null });
const queue = new Queue('raw', { connection, prefix: values.prefix });
await queue.waitUntilReady();
// The same payload as a submission: one body of this size.
const data = { body: 'x'.repeat(Number(values['body-bytes'])) };

/** @param {number} seconds */
async function addFor(seconds) {
  const until = Date.now() + seconds * 1000;
  let adds = 0;
  const lane = async () => {
    while (Date.now() < until) {
      await queue.add('task', data);
      adds++;
    }
  };
  await Promise.all(Array.from({ length: Number(values.concurrency) }, lane));
  return adds;
}

await addFor(Number(values['warmup-s']));
const cpu0 = process.cpuUsage();
const started = performance.now();
const adds = await addFor(Number(values['duration-s']));
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `${JSON.stringify({
    adds_per_s: adds / seconds,
    cpu_us_per_add: (cpu.user + cpu.system) / adds,
  })}\n`,
);
await queue.close();
connection.disconnect();
