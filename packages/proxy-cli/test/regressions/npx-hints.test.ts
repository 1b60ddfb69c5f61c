import { waitFor } from 'test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf, runCli, type Stack, spawnCli, startStack } from '../e2e/harness.js';
import { startFakeProxy } from '../e2e/hostile-proxy.js';
import { makeTask } from '../fixtures.js';

// Run as `npx proxy-cli …` from a project that installed it, the CLI's hints still began
// `proxy-cli …`: no such command is on the PATH of the shell they are pasted into, so each
// failed with "command not found". npm marks what `npx` and `npm exec` start, as below (npm 11
// measured; pack.test.ts runs the real npx), and the hints then go through npx as well.
const NPX_ENV = { npm_command: 'exec', npm_lifecycle_event: 'npx' };
const ID = '7a1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f';

/** A proxy that queues every submission as task ID, which then stays pending; `reads` counts. */
function startQueueingProxy(reads: string[] = []): Promise<string> {
  const pending = makeTask({
    ...{ task_id: ID, status: 'pending', started_at: null, completed_at: null },
    ...{ result: null, duration_ms: null, queue_position: 1, attempts: 0 },
  });
  return startFakeProxy((req, res) => {
    req.resume();
    const url = req.url ?? '/';
    const queued = url.startsWith('/api/');
    if (!queued) reads.push(url);
    res.writeHead(queued ? 202 : 200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(
        queued
          ? { success: true, task_id: ID, status: 'pending', data: { task_id: ID } }
          : { success: true, data: pending },
      ),
    );
  });
}

describe('hints to paste, when npx started the CLI', () => {
  it('follow it with: the command goes through npx, and only then', async () => {
    const url = await startQueueingProxy();
    const args = ['submit', 'api/slow', '--url', url];
    const follow = `--url ${url} --task-id ${ID} --wait`;

    const byNpx = await runCli(args, { env: NPX_ENV });
    expect(byNpx.code, byNpx.stderr).toBe(0);
    expect(byNpx.stderr).toContain(`follow it with: npx --no -- proxy-cli ${follow}`);

    const fromPath = await runCli(args);
    expect(fromPath.stderr).toContain(`follow it with: proxy-cli ${follow}`);
  });

  it('resume waiting with, and --json resume_command: through npx', async () => {
    const reads: string[] = [];
    const url = await startQueueingProxy(reads);
    const cli = spawnCli(['submit', 'api/slow', '--wait', '--json', '--url', url], {
      env: NPX_ENV,
    });
    await waitFor(() => reads.length > 0, { what: 'the CLI to wait on the task' });
    cli.child.kill('SIGINT');
    const run = await cli.done;
    expect(run.code, run.stderr).toBe(130);
    const resume = `npx --no -- proxy-cli --url ${url} --task-id ${ID} --wait --json`;
    expect(jsonOf<{ error: unknown }>(run).error).toMatchObject({ resume_command: resume });
    expect(run.stderr).toContain(`hint: resume waiting with: ${resume}`);
  });
});

// The hints of a command line that failed to parse still began `proxy-cli …`: whether npx
// started the CLI was read only once the options had parsed.
describe('hints of a command line refused as it parses, when npx started the CLI', () => {
  it.each([
    [['--bogus'], 'see npx --no -- proxy-cli --help'],
    [['stats', '--bogus'], 'see npx --no -- proxy-cli help stats'],
    [
      ['nosuch'],
      'commands: stats, health, list, task, wait, submit, cancel, retry, watch, cleanup, demo, completion; see npx --no -- proxy-cli --help',
    ],
    [['help', 'stats', 'list'], 'see npx --no -- proxy-cli help stats'],
    [['--stats', '--stats'], 'one --stats per call: run npx --no -- proxy-cli again for another'],
    [['stats', '--list-tasks'], 'see npx --no -- proxy-cli --help'],
    [['--stats', '--health'], 'see npx --no -- proxy-cli --help'],
    [['--priority', 'urgent', '--submit', 'api/x'], 'see npx --no -- proxy-cli --help'],
    [['completion', 'tcsh'], 'e.g. source <(npx --no -- proxy-cli completion bash)'],
  ])('%j', async (args, hint) => {
    const run = await runCli(args, { env: NPX_ENV });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr.split('\n').at(-2)).toBe(`hint: ${hint}`);
  });

  it('without npx, they name proxy-cli as before', async () => {
    const run = await runCli(['--stats', '--health']);
    expect(run.stderr.split('\n').at(-2)).toBe('hint: see proxy-cli --help');
  });
});

// The hints written once the options had parsed (a task not found, an answer not a proxy's, a
// proxy without event streams) and the examples of --help still began `proxy-cli …`.
describe('hints written after the options parse, and --help, when npx started the CLI', () => {
  /** A proxy that answers every request with `status` and `body`. */
  const answering = (status: number, body: string) =>
    startFakeProxy((req, res) => {
      req.resume();
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    });

  it('a task the proxy does not have points at --list-tasks through npx', async () => {
    const url = await answering(
      404,
      JSON.stringify({ success: false, error: 'task_not_found', message: 'Task not found' }),
    );
    const run = await runCli(['task', ID, '--url', url], { env: NPX_ENV });
    expect(run.code, run.stderr).toBe(4);
    expect(run.stderr.split('\n').at(-2)).toBe(
      `hint: check the id; npx --no -- proxy-cli --url ${url} --list-tasks shows the tasks the proxy holds (cleanup removes old ones)`,
    );
  });

  it('an answer no proxy gives points at health through npx', async () => {
    const url = await answering(200, '<html>a login page</html>');
    const run = await runCli(['stats', '--url', url], { env: NPX_ENV });
    expect(run.code, run.stderr).toBe(5);
    expect(run.stderr).toContain('npx --no -- proxy-cli health --url <url> checks it');
    expect(run.stderr).not.toMatch(/[^-] proxy-cli health/);
  });

  it('a proxy without event streams points --watch at --list-tasks through npx', async () => {
    const url = await answering(
      404,
      JSON.stringify({ success: false, error: 'not_found', message: 'Route not found' }),
    );
    const run = await runCli(['watch', '--url', url], { env: NPX_ENV });
    expect(run.code, run.stderr).toBe(5);
    expect(run.stderr.split('\n').at(-2)).toBe(
      `hint: npx --no -- proxy-cli --url ${url} --list-tasks shows the tasks; a newer proxy-server streams them to --watch`,
    );
  });

  it('--help gives its examples through npx, and without npx as before', async () => {
    const byNpx = await runCli(['--help'], { env: NPX_ENV });
    expect(byNpx.code, byNpx.stderr).toBe(0);
    expect(byNpx.stdout).toContain('\n  npx --no -- proxy-cli wait <id> --timeout 600\n');
    expect(byNpx.stdout).toContain('source <(npx --no -- proxy-cli completion bash)');
    expect(byNpx.stdout).not.toMatch(/^ {2}proxy-cli /m);

    const fromPath = await runCli(['--help']);
    expect(fromPath.stdout).toContain('\n  proxy-cli wait <id> --timeout 600\n');
  });
});

// The demo's closing line, written once the demos had run, still began `proxy-cli …`.
describe("the demo's closing line, when npx started the CLI", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.stop());

  it('Next: names --stats and --list-tasks through npx', async () => {
    const run = await runCli(['demo', 'single', '--url', stack.url], { env: NPX_ENV });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim().split('\n').at(-1)).toMatch(
      new RegExp(
        `^demo done in .*\\. Next: npx --no -- proxy-cli --url ${stack.url} --stats, npx --no -- proxy-cli --url ${stack.url} --list-tasks$`,
      ),
    );
  });

  it('after npm run demo, whose proxy has stopped, names --stats through npx too', async () => {
    const run = await runCli(['demo', 'single', '--url', stack.url], {
      env: { ...NPX_ENV, PROXY_CLI_DEMO_PROXY_STOPS: '1' },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      'to look around with npx --no -- proxy-cli --stats and --list-tasks',
    );
  });
});
