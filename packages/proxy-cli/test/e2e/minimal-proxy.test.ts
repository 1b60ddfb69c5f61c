import { describe, expect, it } from 'vitest';
import { runCli } from './harness.js';
import { startFakeProxy } from './hostile-proxy.js';

/**
 * What /work/shared/SPEC.md requires of /health and /stats and no more: a proxy other than
 * proxy-server, or an older one, may send only that.
 */
const MINIMAL_STATS = {
  tasks: { pending: 0, processing: 1, completed: 2, failed: 0, total: 3 },
  queue_size: 0,
  max_queue_size: 10,
  max_concurrent: 4,
  num_workers: 2,
  in_flight: 1,
  long_tasks: 0,
  avg_processing_ms: 12,
  uptime_s: 5,
  target: 'http://127.0.0.1:9',
};

/** A proxy answering /health with `status` and `target.reachable` only, and the minimal stats. */
async function minimalProxy(status: 'ok' | 'degraded'): Promise<string> {
  return startFakeProxy((request, response) => {
    const body =
      request.url === '/health'
        ? { success: true, status, target: { reachable: status === 'ok' } }
        : request.url === '/stats'
          ? { success: true, data: MINIMAL_STATS }
          : null;
    response.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body ?? { success: false, error: 'not_found' }));
  });
}

describe('a proxy that sends only what the contract requires', () => {
  it('health: the rows it sent, exit 0', async () => {
    const url = await minimalProxy('ok');
    const run = await runCli(['health', '--url', url]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`proxy\t${url}\nstatus\tok\ntarget.reachable\ttrue\n`);
  });

  it('health of a degraded one: exit 5 with the reason it sent', async () => {
    const url = await minimalProxy('degraded');
    const run = await runCli(['health', '--url', url]);
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/^error: the proxy is degraded: it cannot reach its target$/m);
  });

  it('demo: ends at the health check with the reason, exit 5', async () => {
    const url = await minimalProxy('degraded');
    const run = await runCli(['demo', '--url', url]);
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/^error: the proxy is degraded: it cannot reach its target$/m);
  });

  it('stats: the rows it sent, exit 0', async () => {
    const url = await minimalProxy('ok');
    const run = await runCli(['stats', '--url', url]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('tasks.completed\t2\n');
    expect(run.stdout).toContain('uptime_s\t5\n');
    expect(run.stdout).not.toMatch(/^(totals|version|effective_concurrency)/m);
  });
});

/** A proxy whose one task never finishes: every read of it says pending. */
async function proxyThatNeverFinishes(): Promise<{ url: string; taskId: string }> {
  const taskId = '6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f';
  const now = new Date().toISOString();
  const task = {
    task_id: taskId,
    status: 'pending',
    method: 'POST',
    path: '/api/function1',
    created_at: now,
    started_at: null,
    completed_at: null,
    queue_position: 1,
    queue_ms: 0,
    duration_ms: null,
    attempts: 0,
    result: null,
    error: null,
  };
  const url = await startFakeProxy((request, response) => {
    const body =
      request.url === '/health'
        ? { success: true, status: 'ok', target: { reachable: true } }
        : request.url?.startsWith('/api/')
          ? {
              success: true,
              task_id: taskId,
              status: 'pending',
              message: 'Task created',
              data: { task_id: taskId, status_url: `/task/${taskId}` },
            }
          : request.url?.startsWith(`/task/${taskId}`)
            ? { success: true, data: task }
            : null;
    const status = !body ? 404 : request.url?.startsWith('/api/') ? 202 : 200;
    request.resume();
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body ?? { success: false, error: 'not_found' }));
  });
  return { url, taskId };
}

describe('demo --timeout that ends a wait', () => {
  // Review: the demo's timeout error replaced the wait's, and --json lost the task and the
  // command to resume waiting. The wait cut off here is the target probe's, the demo's first,
  // which goes through the same wait as every demo task.
  it('names the task and how to resume waiting for it, exit 124', async () => {
    const { url, taskId } = await proxyThatNeverFinishes();
    const run = await runCli(['demo', 'single', '--timeout', '2', '--json', '--url', url]);
    expect(run.code).toBe(124);
    expect(JSON.parse(run.stdout)).toMatchObject({
      success: false,
      error: {
        code: 'timeout',
        message: expect.stringMatching(/^gave up after 2\.0 s \(--timeout, for the whole demo\)/),
        task_id: taskId,
        resume_command: expect.stringContaining(taskId),
      },
    });
  }, 20_000);
});

/** A proxy whose one task has a status no proxy-cli knows: a newer proxy's, say. */
async function proxyWithUnknownStatus(): Promise<{ url: string; taskId: string }> {
  const taskId = '7a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
  const task = {
    task_id: taskId,
    status: 'paused',
    method: 'POST',
    path: '/api/function1',
    created_at: new Date().toISOString(),
    started_at: null,
    completed_at: null,
    queue_position: null,
    queue_ms: 0,
    duration_ms: null,
    attempts: 0,
    result: null,
    error: null,
  };
  const url = await startFakeProxy((request, response) => {
    request.resume();
    const known = request.url?.startsWith(`/task/${taskId}`);
    response.writeHead(known ? 200 : 404, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify(
        known ? { success: true, data: task } : { success: false, error: 'not_found' },
      ),
    );
  });
  return { url, taskId };
}

describe('a task in a status the CLI does not know', () => {
  // The error document had neither the task's id nor a hint, unlike every other task error.
  it('wait --json: unknown_status with the task id and a hint, exit 5', async () => {
    const { url, taskId } = await proxyWithUnknownStatus();
    const run = await runCli(['wait', taskId, '--json', '--url', url]);
    expect(run.code).toBe(5);
    expect(JSON.parse(run.stdout)).toEqual({
      success: false,
      error: {
        code: 'unknown_status',
        exit_code: 5,
        message: `Task ${taskId} has status "paused", which this version of proxy-client does not know; stopped waiting rather than poll forever`,
        hint: `the proxy is newer than this proxy-cli: use a proxy-cli as new as the proxy; proxy-cli --url ${url} --task-id ${taskId} --json shows the task as the proxy has it`,
        task_id: taskId,
        status: 'paused',
      },
    });
  }, 20_000);
});
