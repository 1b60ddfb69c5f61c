import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'libsql';
import type { DataBody, Task, TaskList } from 'proxy-client/wire';
import { spawnProxyServer, waitFor } from 'test-support';
import { describe, expect, it, onTestFinished } from 'vitest';
import { migrate } from '../../src/engine/sqlite/schema.js';
import { startTarget } from '../helper.js';

// Security pass: a callback URL with a #fragment is refused at submission since a token written
// there leaked, but the builds before took one and kept it. On such a data dir the proxy still
// showed the fragment with the task and logged it, and a retry of the task was refused
// (`must not carry a #fragment`) for a header its caller could no longer change.

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const TASK = '3f7c9a52-1d84-4b6e-9c0a-5e2f8d1b7a64';
const FRAGMENT = 'token-in-the-fragment';

/** A receiver that keeps each delivery's body and answers 410 Gone: one delivery per callback. */
async function goneReceiver() {
  const bodies: string[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => {
      bodies.push(body);
      response.writeHead(410).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, bodies };
}

/** A data dir as a build that took fragments left it: a finished task, its callback still due. */
async function olderBuildDataDir(callbackUrl: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'proxy-callback-fragment-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const db = new Database(join(dir, 'tasks.db'));
  migrate(db);
  const headers = Buffer.from(
    ['Host', 'proxy', 'X-Proxy-Callback-Url', callbackUrl].join('\u0000'),
    'latin1',
  );
  db.prepare(
    `INSERT INTO tasks (seq, queue_order, id, status, status_order, method, path, request_headers,
       created_at, started_at, completed_at, attempts, result_status, result_headers,
       result_encoding, result_bytes, result_body, callback, callback_state)
     VALUES (1, 1, ?, 'completed', 1, 'GET', '/api/fast1', ?, 1796296277696, 1796296277699,
       1796296277719, 1, 200, '{"content-type":"application/json"}', 'json', 13, '{"done":true}',
       ?, 'pending')`,
  ).run(
    TASK,
    headers,
    JSON.stringify({ url: callbackUrl, state: 'pending', deliveries: [], nextAt: null }),
  );
  db.close();
  return dir;
}

describe('a callback URL with a #fragment kept by an older build', () => {
  it('is shown, delivered, logged and retried without its fragment', async () => {
    const target = await startTarget();
    const receiver = await goneReceiver();
    const url = `${receiver.origin}/done`;
    const dataDir = await olderBuildDataDir(`${url}#${FRAGMENT}`);
    const proxy = await spawnProxyServer({
      args: [
        ...['--target-url', target.url, '--data-dir', dataDir],
        ...['--callback-allow', receiver.origin, '--webhook-secret', SECRET],
      ],
    });
    onTestFinished(async () => {
      await proxy.stop('SIGKILL');
    });
    const task = async (id: string) =>
      ((await (await fetch(`${proxy.url}/task/${id}`)).json()) as DataBody<Task>).data;

    // The callback left due is delivered at the start, and given up on the 410: a logged line.
    await waitFor(async () => (await task(TASK)).callback?.state === 'failed');
    expect((await task(TASK)).callback?.url).toBe(url);
    expect(JSON.parse(receiver.bodies[0] ?? '{}')).toMatchObject({
      data: { task_id: TASK, callback: { url } },
    });
    const list = (await (await fetch(`${proxy.url}/tasks`)).json()) as DataBody<TaskList>;
    expect(list.data.tasks.map((listed) => listed.callback?.url)).toEqual([url]);

    const retried = await fetch(`${proxy.url}/task/${TASK}/retry`, { method: 'POST' });
    expect(retried.status).toBe(202);
    const { task_id: id } = ((await retried.json()) as DataBody<Task>).data;
    const again = await waitFor(async () => {
      const seen = await task(id);
      return seen.callback?.state === 'failed' ? seen : null;
    });
    expect(again.callback?.url).toBe(url);

    expect(proxy.output()).toContain('callback given up');
    expect(proxy.output()).not.toContain(FRAGMENT);
  });
});
