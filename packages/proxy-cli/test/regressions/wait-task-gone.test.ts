import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf, spawnCli } from '../e2e/harness.js';
import { makeTask } from '../fixtures.js';

// A wait rides out a proxy restart, and on --store memory the task is then gone. The CLI said
// "no task … on the proxy" with the hint to check the id: the id it had just been waiting on.
// This proxy answers the CLI's first read and the SDK's first with the task, then 404, as one
// restarted without it would.
const TASK_ID = '5f0c2a9e-3b1d-4c6e-8f7a-9b0c1d2e3f4a';
let reads = 0;
let proxy: Server;
let url: string;

beforeAll(async () => {
  proxy = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    reads += 1;
    if (reads > 2) {
      res.statusCode = 404;
      res.end(
        JSON.stringify({ success: false, error: 'task_not_found', message: `No task ${TASK_ID}` }),
      );
      return;
    }
    const task = makeTask({
      task_id: TASK_ID,
      status: 'processing',
      completed_at: null,
      result: null,
      duration_ms: null,
    });
    res.end(JSON.stringify({ success: true, data: task }));
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => proxy.close(resolve)));

describe('a task gone from the proxy while it was waited for', () => {
  it('says the proxy no longer has it, not that the id may be wrong', async () => {
    reads = 0;
    const run = await spawnCli(['wait', TASK_ID, '--poll-interval', '0.05', '--url', url]).done;
    expect(run.code).toBe(4);
    expect(run.stderr).toBe(
      `waiting for task ${TASK_ID} (processing)\n` +
        `error: task ${TASK_ID} is gone from the proxy at ${url}, which had it (processing): a proxy restarted with --store memory keeps no tasks, and cleanup, --retention or --max-tasks remove finished ones\n` +
        `hint: proxy-cli --url ${url} --list-tasks shows the tasks the proxy holds now\n`,
    );
  });

  it('--json: the error document is task_not_found, with the task and its last status', async () => {
    reads = 0;
    const run = await spawnCli(['wait', TASK_ID, '--json', '--poll-interval', '0.05', '--url', url])
      .done;
    expect(run.code).toBe(4);
    expect(jsonOf(run)).toMatchObject({
      success: false,
      error: { code: 'task_not_found', exit_code: 4, task_id: TASK_ID, status: 'processing' },
    });
  });
});
