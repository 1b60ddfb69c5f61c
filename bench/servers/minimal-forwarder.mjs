// @ts-check
// The least a Node async forwarder can do, for calibration only: Fastify accepts POST/GET
// /api/* with 202 and a task id, an array is the queue, 50 loops forward through one undici
// Pool bound to the target and keep the answer in a Map. No validation, no schemas beyond the
// framework's, no listeners, no estimates. What it reaches under scenario 2's load is what the
// platform (Node, Fastify, undici on this machine) allows any such proxy, not a target to meet.
// `/stats` answers `{data: {totals: {completed, failed}}}` so the benchmark's waits work.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { Pool } from 'undici';

const { values } = parseArgs({
  options: {
    'target-port': { type: 'string' },
    'max-concurrent': { type: 'string', default: '50' },
  },
});
const cap = Number(values['max-concurrent']);
const pool = new Pool(`http://127.0.0.1:${values['target-port']}`, {
  connections: cap,
  headersTimeout: 0,
  bodyTimeout: 0,
});

/** @typedef {{ method: string, path: string, body: Buffer | null, result?: unknown }} Job */
/** @type {Map<string, Job>} */
const jobs = new Map();
/** @type {Job[]} */
const queue = [];
let head = 0;
let running = 0;
const totals = { completed: 0, failed: 0 };

function pump() {
  while (running < cap && head < queue.length) {
    const job = /** @type {Job} */ (queue[head]);
    queue[head++] = /** @type {Job} */ (/** @type {unknown} */ (undefined));
    running++;
    forward(job).finally(() => {
      running--;
      pump();
    });
  }
}

/** @param {Job} job */
async function forward(job) {
  try {
    const res = await pool.request({
      path: job.path,
      method: /** @type {import('undici').Dispatcher.HttpMethod} */ (job.method),
      body: job.body,
    });
    job.result = { status: res.statusCode, body: await res.body.text() };
    totals.completed++;
  } catch {
    totals.failed++;
  }
}

const app = Fastify({ logger: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
app.all('/api/*', async (request, reply) => {
  const id = randomUUID();
  const body = Buffer.isBuffer(request.body) && request.body.length > 0 ? request.body : null;
  const job = { method: request.method, path: request.url, body };
  jobs.set(id, job);
  queue.push(job);
  pump();
  return reply.code(202).send({ success: true, task_id: id });
});
app.get('/stats', async () => ({ success: true, data: { totals, in_flight: running } }));

const address = await app.listen({ port: 0, host: '127.0.0.1' });
console.log(`minimal-forwarder listening on ${address}`);
process.once('SIGTERM', () => app.close().then(() => process.exit(0)));
