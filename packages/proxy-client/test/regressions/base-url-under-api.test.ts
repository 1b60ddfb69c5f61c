import { describe, expect, it } from 'vitest';
import { ProxyClient } from '../../src/index.js';
import { submitReply, TASK_ID } from '../helpers/fixtures.js';
import { BASE_URL, createTestServer } from '../helpers/test-server.js';

// Under /api the proxy takes every request for a task: a cancelTask reached the target as a
// DELETE, and a submission was queued for /api/api/function1 and failed at the target only later.
const server = createTestServer();

type Call = (client: ProxyClient) => Promise<unknown>;

const REFUSED: [string, Call, RegExp][] = [
  ['submitTask', (c) => c.submitTask('api/function1', { a: 1 }), /under \/api\/api\//],
  ['submit', (c) => c.submit('function1'), /under \/api\/api\//],
  ['submitAndWait', (c) => c.submitAndWait('api/function1'), /under \/api\/api\//],
  ['run', (c) => c.run('api/function1'), /under \/api\/api\//],
  ['cancelTask', (c) => c.cancelTask(TASK_ID), /its DELETE would reach the target as a task/],
  ['retryTask', (c) => c.retryTask(TASK_ID), /its POST would reach the target as a task/],
  ['cleanupTasks', (c) => c.cleanupTasks(), /its DELETE would reach the target as a task/],
];

describe('a baseUrl under the proxy’s /api/', () => {
  it.each(REFUSED)('%s refuses it before sending anything', async (name, call, consequence) => {
    server.on('all', '/*', submitReply());
    const error = await call(new ProxyClient({ baseUrl: `${BASE_URL}/api/` })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TypeError);
    const { message } = error as TypeError;
    expect(message).toMatch(new RegExp(`^${name}\\(\\): baseUrl ${BASE_URL}/api ends in /api: `));
    expect(message).toMatch(consequence);
    expect(message).toMatch(/; nothing was sent\. Drop \/api from baseUrl: /);
    expect(server.calls).toHaveLength(0);
  });

  // The proxy decodes the path before it routes: /%61%70%69 is /api there.
  it('refuses /api written with escapes too', async () => {
    server.on('all', '/*', submitReply());
    const client = new ProxyClient({ baseUrl: `${BASE_URL}/x/%61%70%69` });
    await expect(client.cancelTask(TASK_ID)).rejects.toThrow(TypeError);
    expect(server.calls).toHaveLength(0);
  });

  it('sends a submission under a prefix that only looks like it', async () => {
    const route = server.on('post', '/my-api/api/*', submitReply());
    const client = new ProxyClient({ baseUrl: `${BASE_URL}/my-api` });
    expect(await client.submitTask('api/function1')).toBe(TASK_ID);
    expect(route.calls).toHaveLength(1);
  });

  // A read goes out as before: the proxy answers it 202, which the SDK then explains.
  it.each([
    ['getTask', (c: ProxyClient) => c.getTask(TASK_ID)],
    ['listTasks', (c: ProxyClient) => c.listTasks()],
    ['getStats', (c: ProxyClient) => c.getStats()],
  ] as const)('%s still sends, and explains the 202', async (_, call) => {
    const route = server.on('all', '/api/*', submitReply());
    await expect(call(new ProxyClient({ baseUrl: `${BASE_URL}/api` }))).rejects.toMatchObject({
      code: 'invalid_response',
      message: expect.stringMatching(/base URL ends under the proxy's \/api\//),
    });
    expect(route.calls).toHaveLength(1);
  });
});
