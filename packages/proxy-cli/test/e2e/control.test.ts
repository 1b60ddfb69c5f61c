import { ProxyClient } from 'proxy-client';
import type { Task } from 'proxy-client/wire';
import { waitFor } from 'test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf, runCli, type Stack, startStack, UUID } from './harness.js';

// --cancel, --retry, --submit --wait, and idempotency keys: the built CLI
// against a real proxy-server in front of slow-target.
let stack: Stack;
let client: ProxyClient;
const cli = (...args: string[]) => runCli([...args, '--url', stack.url]);

beforeAll(async () => {
  stack = await startStack(['--max-concurrent', '1', '--num-workers', '1']);
  client = new ProxyClient({ baseUrl: stack.url });
});
afterAll(() => stack?.stop());

/** A task that is running, and one queued behind it. */
async function runningAndQueued(): Promise<[string, string]> {
  const running = await client.submitTask('long?seconds=30', undefined, { method: 'GET' });
  await waitFor(async () => (await client.getTask(running)).status === 'processing', {
    what: 'the long task to start',
  });
  return [running, await client.submitTask('function1', {})];
}

describe('--cancel', () => {
  it('cancels a queued task and a running one: the task on stdout, exit 0', async () => {
    const [running, queued] = await runningAndQueued();
    const json = await cli('--cancel', queued, '--json');
    expect(json.code).toBe(0);
    expect(jsonOf<Task>(json)).toMatchObject({ task_id: queued, status: 'cancelled' });

    const plain = await cli('cancel', running);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^status\tcancelled$/m);
    expect(plain.stderr).toContain(`task ${running} is cancelled`);
    await waitFor(() => stack.target.stats().inFlight === 0, { what: 'the call to be closed' });
    // Cancelled already: still exit 0.
    expect((await cli('cancel', running)).code).toBe(0);
  });

  it('a task that finished otherwise: exit 6, with its id and status as fields', async () => {
    const failed = await client.submitAndWait('fail?status=500', undefined, { method: 'GET' });
    const run = await cli('cancel', failed.task_id, '--json');
    expect(run.code).toBe(6);
    expect(jsonOf(run)).toEqual({
      success: false,
      error: {
        code: 'task_finished',
        exit_code: 6,
        message: `task ${failed.task_id} has already finished (failed); there is nothing to cancel`,
        hint: `run it again with: proxy-cli --url ${stack.url} retry ${failed.task_id}`,
        task_id: failed.task_id,
        status: 'failed',
      },
    });
  });

  it('an unknown task: exit 4', async () => {
    expect((await cli('cancel', '00000000-0000-4000-8000-000000000000')).code).toBe(4);
  });
});

describe('--retry', () => {
  it('prints the new task id; --json links it to the old one', async () => {
    const failed = await client.submitAndWait('fail?status=503', undefined, { method: 'GET' });
    const plain = await cli('retry', failed.task_id);
    expect(plain.code).toBe(0);
    const newId = plain.stdout.trim();
    expect(newId).toMatch(new RegExp(`^${UUID.source}$`));
    expect(plain.stderr).toContain(`task ${failed.task_id} runs again as task ${newId}`);
    const json = jsonOf(await cli('--retry', failed.task_id, '--json'));
    expect(json).toMatchObject({ retry_of: failed.task_id, task_id: expect.stringMatching(UUID) });
    expect((await client.getTask(failed.task_id)).retried_as).toBe(json['task_id']);
  });

  it('--wait shows the new task once finished, exit 1 when it failed again', async () => {
    const failed = await client.submitAndWait('fail?status=500', undefined, { method: 'GET' });
    const run = await cli('retry', failed.task_id, '--wait', '--json');
    expect(run.code).toBe(1);
    expect(jsonOf<Task>(run)).toMatchObject({ status: 'failed', retry_of: failed.task_id });
  });

  it('a task that has not finished: exit 6', async () => {
    const [running, queued] = await runningAndQueued();
    const run = await cli('retry', queued, '--json');
    expect(run.code).toBe(6);
    expect(jsonOf(run)).toMatchObject({
      error: { code: 'task_not_finished', exit_code: 6, task_id: queued },
    });
    await Promise.all([client.cancelTask(queued), client.cancelTask(running)]);
  });
});

describe('--submit', () => {
  it('--wait: a quick task is named first, then shown finished', async () => {
    const run = await cli('submit', 'api/function1', '--data', '{"delay_ms":100}', '--wait');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^status\tcompleted$/m);
    expect(run.stderr).toMatch(/^submitted POST \/api\/function1 as task /);
  });

  it('a path without api/: the progress line shows the path the request went to', async () => {
    const run = await cli('submit', 'function1?delay_ms=100', '--wait');
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^submitted POST \/api\/function1\?delay_ms=100 as task /m);
  });

  it('--wait: a slower task is waited for as usual', async () => {
    const run = await cli(
      'submit',
      'api/function1',
      '--data',
      '{"delay_ms":5600}',
      '--wait',
      '--json',
    );
    expect(run.code).toBe(0);
    expect(jsonOf<Task>(run).status).toBe('completed');
  });

  it('one --idempotency-key, one task; the same key on another request: exit 5', async () => {
    const key = `cli-${Date.now()}`;
    const submit = (data: string, ...more: string[]) =>
      cli('submit', 'api/function1', '--data', data, '--idempotency-key', key, ...more);
    const first = jsonOf(await submit('{"n":1}', '--json'));
    expect(first).toMatchObject({ idempotency_key: key, replayed: false });
    const again = await submit('{"n":1}');
    expect(again.stdout.trim()).toBe(first['task_id']);
    expect(again.stderr).toContain('submitted before with this idempotency key');
    // SDK consumer pass: a replay of a task that had finished was called "queued", and followed
    // with a wait.
    await cli('--task-id', String(first['task_id']), '--wait');
    const finished = await submit('{"n":1}');
    expect(finished.stderr).toMatch(
      /already completed \(submitted before with this idempotency key\); see it with: .* --task-id [\w-]+\n/,
    );
    const other = await submit('{"n":2}', '--json');
    expect(other.code).toBe(5);
    expect(jsonOf(other)).toMatchObject({
      error: { code: 'idempotency_key_reused', idempotency_key: key },
    });
  });

  it('--priority, --max-attempts, --max-queue-time and --upstream-timeout reach the task', async () => {
    const run = await cli(
      'submit',
      'api/function1',
      '--priority',
      'high',
      '--max-attempts',
      '1',
      '--max-queue-time',
      '60',
      '--upstream-timeout',
      '5',
      '--wait',
      '--json',
    );
    expect(run.code).toBe(0);
    const task = jsonOf<Task>(run);
    expect(task).toMatchObject({ status: 'completed', priority: 'high', max_attempts: 1 });
    expect(Date.parse(task.deadline_at ?? '') - Date.parse(task.created_at)).toBe(60_000);
  });

  it('every submission carries a key of its own, and --priority is accepted', async () => {
    const run = await cli('submit', 'api/function1', '--priority', 'low', '--json');
    expect(run.code).toBe(0);
    expect(jsonOf(run)['idempotency_key']).toMatch(/^proxy-cli-[0-9a-f-]{36}$/);
  });
});
