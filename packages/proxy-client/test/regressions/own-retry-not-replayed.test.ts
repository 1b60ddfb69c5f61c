import { describe, expect, it } from 'vitest';
import { ProxyClient } from '../../src/index.js';
import { submitReply, TASK_ID } from '../helpers/fixtures.js';
import { BASE_URL, createTestServer } from '../helpers/test-server.js';

// A submission whose first answer was lost is retried with the key the SDK made for the call, and
// the proxy answers the retry as a replay of the task the first attempt created. The call said
// `replayed: true`, "an earlier request with the same key created it: nothing new was started",
// when this very call had started it: no one else ever had that key.

const server = createTestServer();
const replay = () => {
  const reply = submitReply();
  return { ...reply, headers: { ...reply.headers, 'idempotent-replayed': 'true' } };
};

describe('a replay answering the SDK retrying its own key', () => {
  it('is not a replay: this call created the task', async () => {
    server.on('post', '/api/x', { network: true }, replay());
    const proxy = new ProxyClient({ baseUrl: BASE_URL });
    const submission = await proxy.submit('x', { n: 1 });
    expect(submission).toMatchObject({ taskId: TASK_ID, replayed: false });
  });

  it("is a replay with the caller's own key, which an earlier request may have sent", async () => {
    server.on('post', '/api/x', replay());
    const proxy = new ProxyClient({ baseUrl: BASE_URL });
    const submission = await proxy.submit('x', { n: 1 }, { idempotencyKey: 'order-42' });
    expect(submission).toMatchObject({ taskId: TASK_ID, replayed: true });
  });
});
