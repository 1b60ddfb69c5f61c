import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf, spawnCli } from '../e2e/harness.js';
import { makeTask } from '../fixtures.js';

// A wait whose proxy went away for good (killed, never restarted: the wait gives up after five
// minutes) ended like a first call to a wrong URL: "could not reach the proxy", "is the proxy
// running there? Point the CLI at it with --url", and neither the task's id nor the command to
// take the wait up again, though the proxy had answered for the task and may still hold it.
// This proxy answers the CLI's first read, then drops every connection.
const TASK_ID = '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f';
let reads = 0;
let proxy: Server;
let url: string;

beforeAll(async () => {
  proxy = createServer((_req, res) => {
    reads += 1;
    if (reads > 1) {
      res.socket?.destroy();
      return;
    }
    res.setHeader('content-type', 'application/json');
    const task = makeTask({
      task_id: TASK_ID,
      status: 'processing',
      completed_at: null,
      result: null,
    });
    res.end(JSON.stringify({ success: true, data: task }));
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => proxy.close(resolve)));

describe('--wait when the proxy goes away and stays away', () => {
  it('exits 3 naming the task and how to resume, not a --url to fix', async () => {
    reads = 0;
    const run = await spawnCli(['wait', TASK_ID, '--url', url]).done;
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`lost the proxy at ${url}`);
    expect(run.stderr).toContain(`task ${TASK_ID} goes on on the proxy (processing)`);
    expect(run.stderr).toContain(
      `resume waiting with: proxy-cli --url ${url} --task-id ${TASK_ID} --wait`,
    );
    expect(run.stderr).not.toContain('Point the CLI at it');
  });

  it('with --json, the task and the resume command as fields', async () => {
    reads = 0;
    const run = await spawnCli(['wait', TASK_ID, '--json', '--url', url]).done;
    expect(run.code).toBe(3);
    expect(jsonOf(run)).toMatchObject({
      success: false,
      error: {
        code: 'proxy_unreachable',
        exit_code: 3,
        task_id: TASK_ID,
        status: 'processing',
        resume_command: expect.stringContaining(`--task-id ${TASK_ID} --wait`),
      },
    });
  });
});
