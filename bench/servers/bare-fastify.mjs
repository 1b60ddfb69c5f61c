// @ts-check
// The framework's limit for scenario 1: a bare Fastify route that reads the same 1 KB JSON body
// the proxy reads and answers 202 with a body of the same shape (a fresh uuid, a Location
// header, a response schema), and does nothing else. Started as its own process by the driver.
// With --keep it also keeps every request's body and a small record in a Map, as any task store
// must: the difference between the two says what keeping tasks costs at all.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    keep: { type: 'boolean', default: false },
  },
});
/** @type {Map<string, { body: unknown, createdAt: number }> | null} */
const kept = values.keep ? new Map() : null;

const accepted = {
  type: 'object',
  properties: {
    success: { type: 'boolean' },
    task_id: { type: 'string' },
    status: { type: 'string' },
    message: { type: 'string' },
    data: {
      type: 'object',
      properties: { task_id: { type: 'string' }, status_url: { type: 'string' } },
    },
  },
};

const app = Fastify({ logger: false, bodyLimit: 10 * 1024 * 1024 });
app.all('/api/*', { schema: { response: { 202: accepted } } }, async (request, reply) => {
  if (request.body === undefined) throw new Error('body not read');
  const taskId = randomUUID();
  kept?.set(taskId, { body: request.body, createdAt: Date.now() });
  const statusUrl = `/task/${taskId}`;
  reply.code(202).header('location', statusUrl);
  return {
    success: true,
    task_id: taskId,
    status: 'pending',
    message: 'Task created',
    data: { task_id: taskId, status_url: statusUrl },
  };
});

const address = await app.listen({ port: Number(values.port), host: values.host });
console.log(`bare-fastify listening on ${address}`);
const stop = () => app.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
