import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ProxyClient } from 'proxy-client';
import { proxyCliBin, waitFor } from 'test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf, runCli, type Stack, startStack } from './harness.js';

// One worker, a queue of one, and an API key: the proxy says no in every way it can.
let stack: Stack;
const KEY = 'cli-test-key';

beforeAll(async () => {
  stack = await startStack([
    '--max-concurrent',
    '1',
    '--num-workers',
    '1',
    '--max-queue-size',
    '1',
    '--api-key',
    KEY,
  ]);
});
afterAll(() => stack?.stop());

describe('exit 5: the proxy says no', () => {
  it('without the API key: it needs one, and none was sent', async () => {
    const run = await runCli(['--stats', '--url', stack.url]);
    expect(run.code).toBe(5);
    expect(run.stderr).toContain(
      `error: the proxy at ${stack.url} needs an API key (401), and none was given`,
    );
    expect(run.stderr).not.toContain('refused');
    expect(run.stderr).toMatch(/hint: .*PROXY_API_KEY \(or --api-key <key>\)/);
  });

  it('with the wrong API key: refused, with a hint to check it', async () => {
    const run = await runCli(['--stats', '--json', '--url', stack.url], {
      env: { PROXY_API_KEY: 'not-the-key' },
    });
    expect(run.code).toBe(5);
    expect(run.stderr).toContain(`error: the proxy at ${stack.url} refused the API key (401)`);
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: 'unauthorized', exit_code: 5 } });
  });

  it('the key from PROXY_API_KEY or --api-key is sent', async () => {
    const fromEnv = await runCli(['--stats', '--json', '--url', stack.url], {
      env: { PROXY_API_KEY: KEY },
    });
    expect(fromEnv.code).toBe(0);
    const fromFlag = await runCli(['--stats', '--json', '--url', stack.url, '--api-key', KEY]);
    expect(fromFlag.code).toBe(0);
  });

  // CLI pass: the key's place in the command held `<key>`, which a shell reads as input from a
  // file named key: pasted or run by a script, the line failed before the CLI started.
  it('a wait given --api-key prints a resume command that a shell runs', async () => {
    const client = new ProxyClient({ baseUrl: stack.url, apiKey: KEY });
    const id = await client.submitTask('api/function1', { delay_ms: 1000 });
    const run = await runCli([
      ...['--task-id', id, '--wait', '--timeout', '0.2', '--json'],
      ...['--url', stack.url, '--api-key', KEY],
    ]);
    expect(run.code).toBe(124);
    const resume = jsonOf<{ error: { resume_command: string } }>(run).error.resume_command;
    expect(resume).not.toContain(KEY);
    expect(resume).toContain(' --api-key "$PROXY_API_KEY" ');
    const resumed = await promisify(execFile)(
      'bash',
      ['-c', 'proxy-cli() { "$NODE" "$BIN" "$@"; }; eval "$RESUME"'],
      {
        env: {
          PATH: process.env.PATH,
          NODE: process.execPath,
          BIN: proxyCliBin,
          RESUME: resume,
          PROXY_API_KEY: KEY,
        },
      },
    );
    expect(JSON.parse(resumed.stdout)).toMatchObject({ task_id: id, status: 'completed' });
  });

  it('a full queue: the task is not created, try again later', async () => {
    const client = new ProxyClient({ baseUrl: stack.url, apiKey: KEY });
    const busy = await client.submitTask('api/function1', { delay_ms: 3000 });
    await waitFor(async () => (await client.getTask(busy)).status === 'processing', {
      what: 'the one worker to be busy',
    });
    await client.submitTask('api/function1');

    const run = await runCli(['--submit', 'api/function1', '--url', stack.url, '--api-key', KEY]);
    expect(run.code).toBe(5);
    // The proxy's words name the limit; its own "retry in about N s" would repeat the hint.
    expect(run.stderr).toContain(
      'error: the proxy refused the task (503 queue_full): The queue is full (1 task, --max-queue-size); the task was not created',
    );
    expect(run.stderr).toMatch(/hint: try again in \d+ s/);
    expect(run.stderr).not.toContain('retry in about');
    const json = await runCli([
      '--submit',
      'api/function1',
      '--json',
      '--url',
      stack.url,
      '--api-key',
      KEY,
    ]);
    expect(json.code).toBe(5);
    expect(jsonOf(json)).toMatchObject({
      success: false,
      error: {
        code: 'queue_full',
        exit_code: 5,
        message: expect.stringContaining('(1 task, --max-queue-size)'),
      },
    });
  });
});

// Review: with --max-tasks 1 and one task running, the CLI said the queue was full though it was
// empty; the proxy's message, which names the limit, was dropped.
describe('a proxy at --max-tasks: the CLI says which limit refused the task', () => {
  let capped: Stack;
  beforeAll(async () => {
    // No grace: the long task is cut off when the proxy stops, rather than waited for.
    capped = await startStack(['--max-tasks', '1', '--shutdown-grace', '0']);
  });
  afterAll(() => capped?.stop());

  it('names --max-tasks, not a full queue, in the error and in --json', async () => {
    const client = new ProxyClient({ baseUrl: capped.url });
    await client.submitTask('api/function1', { delay_ms: 60_000 });

    const run = await runCli(['submit', 'api/function1', '--url', capped.url]);
    expect(run.code).toBe(5);
    expect(run.stderr).toContain(
      'error: the proxy refused the task (503 queue_full): The proxy holds its most tasks (--max-tasks 1) and too few have finished to make room; the task was not created',
    );
    expect(run.stderr).not.toContain('queue is full');
    expect(run.stderr).not.toContain('retry in about');
    expect(run.stderr).toMatch(/hint: try again in \d+ s/);

    const json = await runCli(['submit', 'api/function1', '--json', '--url', capped.url]);
    expect(json.code).toBe(5);
    expect(jsonOf(json)).toMatchObject({
      success: false,
      error: {
        code: 'queue_full',
        exit_code: 5,
        message: expect.stringContaining('(--max-tasks 1)'),
        hint: expect.stringMatching(/^try again in \d+ s$/),
      },
    });
  });
});
