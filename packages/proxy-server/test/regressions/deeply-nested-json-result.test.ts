import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DataBody, Task } from 'proxy-client/wire';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startProxy } from '../helper.js';

// Hostile HTTP pass: a target answering valid JSON nested 200,000 deep (400 KB) made the task
// unreadable for good. JSON.parse takes any depth, but JSON.stringify recurses, so every answer
// carrying the parsed body (GET /task/:id, Prefer: wait, the event streams, the callback) ended
// in a 500 internal_error, the submission with Prefer: wait included, after its task was made.

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

async function jsonTarget(): Promise<string> {
  const server = createServer((request, response) => {
    request.resume();
    const depth = Number(new URL(request.url ?? '/', 'http://x').searchParams.get('depth'));
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(nested(depth));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('a JSON answer nested past any real document', () => {
  it('is kept unparsed, like JSON that is not valid, and the task stays readable', async () => {
    const proxy = await startProxy(await jsonTarget(), { listen: true });
    const waited = await fetch(`${proxy.url}/api/deep?depth=200000`, {
      headers: { prefer: 'wait=10' },
    });
    expect(waited.status).toBe(200);
    const task = ((await waited.json()) as DataBody<Task>).data;
    expect(task.status).toBe('completed');
    // application/json without a charset: bytes, as for any JSON-typed body that is not JSON.
    const bytes = Buffer.from(nested(200_000)).toString('base64');
    expect(task.result).toMatchObject({ body_encoding: 'base64', body: bytes });
    expect((await proxy.getTask(task.task_id)).result?.body).toBe(bytes);
    const replay = await fetch(`${proxy.url}/task/${task.task_id}/result`);
    expect(await replay.text()).toBe(nested(200_000));
  });

  it('is parsed as JSON up to 1000 levels deep', async () => {
    const proxy = await startProxy(await jsonTarget(), { listen: true });
    const deepest = await proxy.finished(await proxy.submit('/api/deep?depth=1000'));
    expect(deepest.result?.body_encoding).toBe('json');
    const deeper = await proxy.finished(await proxy.submit('/api/deep?depth=1001'));
    expect(deeper.result?.body_encoding).toBe('base64');
  });
});
