import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxyClient } from 'proxy-client';
import { spawnProxyServer, waitFor } from 'test-support';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { type CliProcess, jsonOf, runCli, type Stack, spawnCli, startStack } from './harness.js';

// --watch and --stats --watch off a terminal (piped): a line per event or per change, until
// Ctrl-C, which ends them with exit 130 and nothing on stderr but the first note.
let stack: Stack;
let client: ProxyClient;

beforeAll(async () => {
  stack = await startStack();
  client = new ProxyClient({ baseUrl: stack.url });
});
afterAll(() => stack?.stop());

const lines = (cli: CliProcess) => cli.stdout().split('\n').filter(Boolean);

/**
 * The "watching" note says the CLI's stream is connected, not that the proxy has subscribed it
 * to its events yet; only an event reaching it tells: submit until one of the tasks shows, then
 * the events of a new task cannot be missed.
 */
async function connected(seen: (id: string) => boolean): Promise<void> {
  const submitted: string[] = [];
  await waitFor(
    async () => {
      if (submitted.some(seen)) return true;
      submitted.push(await client.submitTask('function1', {}));
      return false;
    },
    { what: 'the CLI to hear a first event', timeoutMs: 15_000, intervalMs: 100 },
  );
}

async function interrupted(cli: CliProcess) {
  cli.child.kill('SIGINT');
  return cli.done;
}

describe('--watch, piped', () => {
  it('a tab-separated line per event, then exit 130 on Ctrl-C', async () => {
    const cli = spawnCli(['watch', '--url', stack.url]);
    await connected((id) => lines(cli).some((line) => line.includes(id)));
    const taskId = await client.submitTask('fail?status=500', undefined, { method: 'GET' });
    await waitFor(() => lines(cli).some((line) => line.startsWith(`finished\t${taskId}`)), {
      what: 'the finished line',
    });
    const rows = lines(cli)
      .filter((line) => line.includes(taskId))
      .map((line) => line.split('\t'));
    expect(rows.map((row) => row.slice(0, 3))).toEqual([
      ['created', taskId, 'pending'],
      ['started', taskId, 'processing'],
      ['finished', taskId, 'failed'],
    ]);
    expect(rows[2]?.slice(3)).toEqual([
      'GET',
      '/api/fail?status=500',
      expect.any(String),
      expect.stringMatching(/^\d+$/),
      '500',
      'false',
    ]);
    const run = await interrupted(cli);
    expect(run.code).toBe(130);
    expect(run.stderr).toBe(
      `connecting to the event stream of ${stack.url}; Ctrl-C to stop\n` +
        `watching the tasks at ${stack.url}\n`,
    );
  });

  it('says once the stream is connected, with the statuses it keeps', async () => {
    const cli = spawnCli(['watch', '--status', 'failed,cancelled', '--url', stack.url]);
    await cli.waitForStderr(/^watching/m);
    const run = await interrupted(cli);
    expect(run.code).toBe(130);
    expect(run.stderr).toBe(
      `connecting to the event stream of ${stack.url}; Ctrl-C to stop\n` +
        `watching the tasks at ${stack.url} (only failed, cancelled)\n`,
    );
  });

  it('--json: a JSON line per event, each with the task id as a field; --status filters', async () => {
    const cli = spawnCli(['watch', '--json', '--status', 'completed,failed', '--url', stack.url]);
    const docs = () => lines(cli).map((line) => JSON.parse(line) as Record<string, unknown>);
    await connected((id) => docs().some((doc) => doc['task_id'] === id));
    expect(docs().every((doc) => doc['event'] === 'finished')).toBe(true);
    expect(docs()[0]).toMatchObject({
      event: 'finished',
      id: expect.any(String),
      task_id: expect.any(String),
      task: { status: 'completed' },
    });
    const run = await interrupted(cli);
    expect(run.code).toBe(130);
    expect(run.stderr).toBe('');
  });
});

describe('--stats --watch, piped', () => {
  it('a line per change: the time, the counts and the load; exit 130 on Ctrl-C', async () => {
    const cli = spawnCli(['stats', '--watch', '--poll-interval', '0.2', '--url', stack.url]);
    await waitFor(() => lines(cli).length >= 1, { what: 'a first line' });
    const before = lines(cli).length;
    await client.submitAndWait('function1', {});
    await waitFor(() => lines(cli).length > before, { what: 'a line for the change' });
    for (const line of lines(cli)) {
      expect(line).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z(\t\d+){10}$/);
    }
    const run = await interrupted(cli);
    expect(run.code).toBe(130);
    expect(run.stderr).toBe('');
  });
});

// Hostile pass: a watch rode a restart out without a word, piped or on a terminal, whose foot
// went on saying "live from the proxy's events" while the proxy was gone.
describe('--watch across a proxy restart', () => {
  it('says on stderr when the proxy is away and when it is back, and goes on', async () => {
    const targetArgs = [
      ...['--target-host', stack.target.host, '--target-port', String(stack.target.port)],
      ...['--store', 'memory'],
    ];
    let proxy = await spawnProxyServer({ args: targetArgs });
    onTestFinished(async () => {
      await proxy.stop();
    });
    const port = new URL(proxy.url).port;
    const cli = spawnCli(['watch', '--url', proxy.url]);
    const first = new ProxyClient({ baseUrl: proxy.url });
    await waitFor(
      async () =>
        lines(cli).length > 0 || (await first.submitTask('function1', {}).then(() => false)),
      { what: 'the CLI to hear a first event', timeoutMs: 15_000, intervalMs: 100 },
    );
    await proxy.stop('SIGKILL');
    await cli.waitForStderr(/is away/);
    proxy = await spawnProxyServer({ args: [...targetArgs, '--listen-port', port] });
    await cli.waitForStderr(/at \S+ is back/);
    // As at the start, nothing tells when the stream is subscribed: submit until a task shows.
    const again = new ProxyClient({ baseUrl: proxy.url });
    const submitted: string[] = [];
    await waitFor(
      async () =>
        lines(cli).some((line) => submitted.some((id) => line.startsWith(`created\t${id}`))) ||
        (submitted.push(await again.submitTask('function1', {})) && false),
      { what: "the new proxy's events", timeoutMs: 15_000, intervalMs: 100 },
    );
    const run = await interrupted(cli);
    expect(run.code).toBe(130);
    expect(run.stderr).toBe(
      `connecting to the event stream of ${proxy.url}; Ctrl-C to stop\n` +
        `watching the tasks at ${proxy.url}\n` +
        `the proxy at ${proxy.url} is away (ECONNREFUSED); reconnecting until it is back\n` +
        `the proxy at ${proxy.url} is back\n` +
        `watching the tasks at ${proxy.url} again\n`,
    );
  });
});

describe('--stats --watch across a proxy restart', () => {
  it('waits for the proxy, says so on stderr, and goes on once it is back', async () => {
    const targetArgs = [
      '--target-host',
      stack.target.host,
      '--target-port',
      String(stack.target.port),
    ];
    let proxy = await spawnProxyServer({ args: [...targetArgs, '--store', 'memory'] });
    onTestFinished(async () => {
      await proxy.stop();
    });
    const port = new URL(proxy.url).port;
    const cli = spawnCli(['stats', '--watch', '--poll-interval', '0.2', '--url', proxy.url]);
    await waitFor(() => lines(cli).length >= 1, { what: 'a first line' });
    await proxy.stop();
    await cli.waitForStderr(/is away/);
    expect(cli.child.exitCode).toBeNull();
    proxy = await spawnProxyServer({
      args: [...targetArgs, '--store', 'memory', '--listen-port', port],
    });
    await new ProxyClient({ baseUrl: proxy.url }).submitAndWait('function1', {});
    await cli.waitForStderr(/at \S+ is back/);
    // The new proxy's counts: one task, completed.
    await waitFor(() => lines(cli).some((line) => line.split('\t')[3] === '1'), {
      what: 'a line from the proxy that is back',
    });
    const run = await interrupted(cli);
    expect(run.code).toBe(130);
    expect(run.stderr).toMatch(
      new RegExp(
        `^the proxy at ${proxy.url} is away \\(ECONNREFUSED\\); reading the stats again until it is back\\nthe proxy at ${proxy.url} is back\\n$`,
      ),
    );
  });
});

// SDK and CLI pass: a line was printed whenever any of /stats changed, so a restart with
// another setting printed the line before it once more, the same in every column shown.
describe('--stats --watch, piped, across a restart that changed nothing it shows', () => {
  it('prints no second line', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'proxy-cli-watch-'));
    onTestFinished(() => rm(dataDir, { recursive: true, force: true }));
    const args = [
      ...['--target-host', stack.target.host, '--target-port', String(stack.target.port)],
      ...['--data-dir', dataDir],
    ];
    let proxy = await spawnProxyServer({ args });
    onTestFinished(async () => {
      await proxy.stop();
    });
    await new ProxyClient({ baseUrl: proxy.url }).submitAndWait('function1', {});
    const port = new URL(proxy.url).port;
    const cli = spawnCli(['stats', '--watch', '--poll-interval', '0.2', '--url', proxy.url]);
    await waitFor(() => lines(cli).length >= 1, { what: 'a first line' });
    await proxy.stop();
    await cli.waitForStderr(/is away/);
    proxy = await spawnProxyServer({
      args: [...args, '--listen-port', port, '--max-queue-size', '7'],
    });
    await cli.waitForStderr(/at \S+ is back/);
    const run = await interrupted(cli);
    expect(run.code).toBe(130);
    expect(lines(cli)).toHaveLength(1);
  });
});

describe('piped into a reader that leaves (| head -1)', () => {
  it.each(['watch', 'stats --watch --poll-interval 0.2'])(
    '%s ends, exit 0, at its next line',
    async (command) => {
      const watching = command === 'watch';
      const cli = spawnCli([...command.split(' '), '--url', stack.url]);
      if (watching) await connected((id) => lines(cli).some((line) => line.includes(id)));
      else await waitFor(() => lines(cli).length > 0, { what: 'a first line' });
      cli.child.stdout?.destroy();
      await waitFor(
        async () => {
          if (cli.child.exitCode !== null) return true;
          await client.submitTask('function1', {});
          return false;
        },
        { what: 'the CLI to end', timeoutMs: 10_000, intervalMs: 300 },
      );
      expect((await cli.done).code).toBe(0);
    },
  );
});

describe('a proxy without event streams', () => {
  it('--watch says so: exit 5, no_event_stream', async () => {
    // What an older proxy-server answers for a route it does not have.
    const old = createServer((_, response) => {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ success: false, error: 'not_found', message: 'Route not found' }),
      );
    });
    await new Promise<void>((resolve) => old.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => old.close(() => resolve())));
    const url = `http://127.0.0.1:${(old.address() as AddressInfo).port}`;
    const run = await runCli(['watch', '--json', '--url', url]);
    expect(run.code).toBe(5);
    expect(jsonOf(run)).toMatchObject({
      success: false,
      error: { code: 'no_event_stream', exit_code: 5 },
    });
    expect(run.stderr).toContain(`the proxy at ${url} has no event stream`);
  });
});
