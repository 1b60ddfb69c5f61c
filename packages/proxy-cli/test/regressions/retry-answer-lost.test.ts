import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf, spawnCli } from '../e2e/harness.js';

// --retry whose connection broke after the request went out said "could not reach the proxy"
// and asked whether it ran at --url, though the proxy may have run the task again: a second
// --retry then ran it twice (the retry route has no idempotency key to make a repeat safe).
// This proxy reads each request whole, then drops the connection without answering.
const TASK_ID = '1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9';
let proxy: Server;
let url: string;

beforeAll(async () => {
  proxy = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.socket?.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => proxy.close(resolve)));

describe('--retry when the connection breaks before the answer', () => {
  it('exits 3, says the task may run again, and how to see whether it does', async () => {
    const run = await spawnCli(['retry', TASK_ID, '--url', url]).done;
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(
      `no answer from the proxy at ${url} while running task ${TASK_ID} again`,
    );
    expect(run.stderr).toContain('the new task may exist');
    expect(run.stderr).toContain(`proxy-cli --url ${url} task ${TASK_ID} shows it as retried_as`);
    expect(run.stderr).not.toContain('is the proxy running there');
  });

  it('with --json, the task in the error document', async () => {
    const run = await spawnCli(['retry', TASK_ID, '--json', '--url', url]).done;
    expect(jsonOf(run)).toMatchObject({
      success: false,
      error: { code: 'proxy_unreachable', exit_code: 3, task_id: TASK_ID },
    });
  });
});
