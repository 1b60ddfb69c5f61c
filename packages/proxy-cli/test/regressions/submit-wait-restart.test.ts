import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../e2e/harness.js';
import { makeTask } from '../fixtures.js';

// A proxy answers a --submit --wait with the task's id, then goes away for its restart. The wait's first read found
// no proxy and the CLI exited 3, "is the proxy running there?", though the task had been
// created and the proxy, once back, runs it.
// This proxy answers the submission, drops the next three reads (the first and the SDK's two
// retries of it), then answers with the task finished.
const TASK_ID = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
let reads = 0;
let proxy: Server;
let url: string;

beforeAll(async () => {
  proxy = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST') {
        res.statusCode = 202;
        res.end(JSON.stringify({ success: true, task_id: TASK_ID, status: 'pending' }));
        return;
      }
      reads += 1;
      if (reads <= 3) {
        res.socket?.destroy();
        return;
      }
      res.end(JSON.stringify({ success: true, data: makeTask({ task_id: TASK_ID }) }));
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => proxy.close(resolve)));

describe('--submit --wait when the proxy restarts as it answers the submission', () => {
  it('waits for the proxy to come back, then for the task', async () => {
    reads = 0;
    const run = await spawnCli(['submit', 'api/x', '--wait', '--url', url]).done;
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(TASK_ID);
    expect(run.stderr).toContain(`the proxy at ${url} is away`);
    expect(run.stderr).toContain(`the proxy at ${url} is back`);
  });
});
