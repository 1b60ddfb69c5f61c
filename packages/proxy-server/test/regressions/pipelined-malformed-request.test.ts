import { describe, expect, it } from 'vitest';
import { stalledRequest, startProxy, startTarget } from '../helper.js';

// Hostile-input pass: a valid submission followed on the same connection by bytes Node cannot
// parse got only the 400, while the submission was accepted and run. A client pairs answers
// with requests in order, so it took the 400 for its submission and would send it again.

const SUBMISSION = 'POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi';

describe('a malformed request pipelined behind a valid one', () => {
  it.each([
    [
      'headers too large',
      `GET /api/next HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    ],
    ['bytes that are no request', 'EXTRA-GARBAGE\r\n\r\n'],
  ])('%s: the submission gets its 202 first, then the 400', async (_what, after) => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const answer = await stalledRequest(proxy.url, SUBMISSION + after);

    const statuses = [...(answer.head + answer.body).matchAll(/HTTP\/1\.1 (\d{3}) /g)].map(
      (match) => Number(match[1]),
    );
    expect(statuses).toEqual([202, 400]);
    const taskId = /"task_id":"([0-9a-f-]{36})"/.exec(answer.body)?.[1];
    expect(taskId).toBeDefined();
    expect((await proxy.finished(taskId ?? '')).status).toBe('completed');
    expect(answer.body).toMatch(/"error":"bad_request","message":"[^"]+\(HPE_\w+\)"/);
  });
});
