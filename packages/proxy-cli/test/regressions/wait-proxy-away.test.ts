import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../e2e/harness.js';
import { makeTask } from '../fixtures.js';

// A wait rides out a proxy that goes away (a restart, a deploy), but said nothing meanwhile: the
// spinner went on counting as though the proxy answered, for up to five minutes, where
// --stats --watch says the proxy is away and when it is back.
// This proxy answers the CLI's read and the SDK's first, then 503 to the next read and its two
// retries (the SDK's default), then with the task finished.
const TASK_ID = '7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6';
let reads = 0;
let proxy: Server;
let url: string;

beforeAll(async () => {
  proxy = createServer((_req, res) => {
    reads += 1;
    res.setHeader('content-type', 'application/json');
    if (reads >= 3 && reads <= 5) {
      res.statusCode = 503;
      res.end(JSON.stringify({ success: false, error: 'shutting_down', message: 'stopping' }));
      return;
    }
    const task =
      reads < 3
        ? makeTask({ task_id: TASK_ID, status: 'processing', completed_at: null, result: null })
        : makeTask({ task_id: TASK_ID });
    res.end(JSON.stringify({ success: true, data: task }));
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => proxy.close(resolve)));

describe('--wait while the proxy is away', () => {
  it('says on stderr when the proxy goes away and when it is back, then the end', async () => {
    reads = 0;
    const run = await spawnCli(['wait', TASK_ID, '--poll-interval', '0.05', '--url', url]).done;
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      new RegExp(
        `^waiting for task ${TASK_ID} \\(processing\\)\\n` +
          `the proxy at ${url} is away \\(503\\); waiting for it to come back\\n` +
          `the proxy at ${url} is back\\n` +
          `task ${TASK_ID}: completed after .*\\n$`,
      ),
    );
  });
});
