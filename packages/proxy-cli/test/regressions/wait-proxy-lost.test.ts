import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf, spawnCli } from '../e2e/harness.js';
import { makeTask } from '../fixtures.js';

// A wait whose proxy went away right after the CLI's own first read gave up within a second and
// a half (exit 3, "lost the proxy"): the SDK's wait fails an outage at its first read at once, so
// that a wrong URL is not waited on, though here the proxy had just answered for the task. The
// wait now rides that outage out as any other. This proxy answers the CLI's first read, drops the
// next six connections (a restart), then answers with the finished task.
const TASK_ID = '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f';
let reads = 0;
let proxy: Server;
let url: string;

beforeAll(async () => {
  proxy = createServer((_req, res) => {
    reads += 1;
    if (reads > 1 && reads <= 7) {
      res.socket?.destroy();
      return;
    }
    res.setHeader('content-type', 'application/json');
    const task =
      reads === 1
        ? makeTask({ task_id: TASK_ID, status: 'processing', completed_at: null, result: null })
        : makeTask({ task_id: TASK_ID, status: 'completed' });
    res.end(JSON.stringify({ success: true, data: task }));
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => proxy.close(resolve)));

describe('--wait when the proxy goes away right after the first read', () => {
  it('waits for it to come back and ends with the task', async () => {
    reads = 0;
    const run = await spawnCli(['wait', TASK_ID, '--url', url]).done;
    expect(run.stderr).toContain(`the proxy at ${url} is away`);
    expect(run.stderr).toContain(`the proxy at ${url} is back`);
    expect(run.code).toBe(0);
    expect(reads).toBeGreaterThan(7);
  });

  it('with --json, the finished task on stdout', async () => {
    reads = 0;
    const run = await spawnCli(['wait', TASK_ID, '--json', '--url', url]).done;
    expect(run.code).toBe(0);
    expect(jsonOf(run)).toMatchObject({ task_id: TASK_ID, status: 'completed' });
  });
});
