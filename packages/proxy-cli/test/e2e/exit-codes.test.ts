import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { ProxyClient } from 'proxy-client';
import { freePort, proxyCliBin, waitFor } from 'test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANSI, jsonOf, runCli, type Stack, spawnCli, startStack } from './harness.js';
import { startFakeProxy } from './hostile-proxy.js';

let stack: Stack;
let client: ProxyClient;

beforeAll(async () => {
  stack = await startStack();
  client = new ProxyClient({ baseUrl: stack.url });
});
afterAll(() => stack?.stop());

describe('exit 2: bad usage', () => {
  it.each([
    [[], /error: no action given/],
    [['--stats', '--health'], /error: choose one action per call, got --stats and --health/],
    [['--stats', '--bogus'], /error: unknown option '--bogus'/],
    [['--list-tasks', '--status', 'done'], /error: --status must be one of/],
    // Once a TypeError with a stack trace (exit 1), once "could not reach the proxy" (exit 3).
    [['submit', 'api/x', '-H', 'X-Title: Łódź'], /error: --header X-Title: the value holds a/],
    [['submit', 'api/x', '-H', 'X-A: a\x01b'], /error: --header X-A: the value holds a/],
    // Once the SDK's TypeError for a path segment, with a stack trace.
    [['task', '..'], /error: --task-id must be a task id .*, got '\.\.'/],
    // Once sent, and refused by the proxy (exit 5, callback_not_allowed): the CLI's own check let
    // a #fragment and an empty URL through.
    [
      ['submit', 'api/x', '--callback-url', 'https://hooks.example.com/done#token'],
      /^error: --callback-url must not carry a #fragment: it is never sent to the receiver$/m,
    ],
    [
      ['submit', 'api/x', '--callback-url', ''],
      /^error: --callback-url must be an absolute http:\/\/ or https:\/\/ URL, got an empty value$/m,
    ],
  ])('%j', async (args, message) => {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('hint: see proxy-cli --help');
  });

  it('--json still gets one error document', async () => {
    const run = await runCli(['--stats', '--health', '--json']);
    expect(run.code).toBe(2);
    expect(jsonOf(run)).toMatchObject({ success: false, error: { code: 'usage', exit_code: 2 } });
  });

  // CI: a run that exits before reading its input left the test's write to a closed pipe to
  // fail the whole run as an uncaught EPIPE, every test passing.
  it('with input it never reads: exit 2, and the input left unread is no error', async () => {
    const run = await runCli(['--no-such-flag'], { stdin: Buffer.alloc(4 * 1024 * 1024, ' ') });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown option '--no-such-flag'");
    expect(run.inputUnread?.code).toBe('EPIPE');
  });

  it('--cancel given twice cancels neither task', async () => {
    const ids = await Promise.all(
      [1, 2].map(() => client.submitTask('api/long?seconds=5', undefined, { method: 'GET' })),
    );
    const run = await runCli([...ids.flatMap((id) => ['--cancel', id]), '--url', stack.url]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: --cancel is given twice/);
    for (const id of ids) {
      expect((await client.getTask(id)).status).not.toBe('cancelled');
      await client.cancelTask(id);
    }
  });

  // Once exit 0 (--stats, --list-tasks) or a watch that ran on: only flags with a value were
  // refused twice.
  it.each([['--stats'], ['--list-tasks'], ['--health'], ['--watch']])(
    '%s given twice: exit 2, naming the flag, before any request',
    async (flag) => {
      const run = await runCli([flag, flag, '--url', stack.url]);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe(
        `error: ${flag} is given twice: give it once\nhint: one ${flag} per call: run proxy-cli again for another\n`,
      );
    },
  );

  it('--help and --version exit 0 on stdout', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: proxy-cli');
    expect(help.stderr).toBe('');
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('exit 3: proxy unreachable', () => {
  it('names the URL tried and hints --url and PROXY_URL', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const run = await runCli(['--stats', '--url', url]);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`error: could not reach the proxy at ${url} (ECONNREFUSED)`);
    expect(run.stderr).toMatch(/hint: .*--url <url> or PROXY_URL/);
  });

  // It said "watching the tasks of …" first, then that it could not reach the proxy.
  it('watch, piped, never says it is watching a proxy it did not reach', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const run = await runCli(['watch', '--url', url]);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).not.toContain('watching');
    expect(run.stderr).toContain(
      `connecting to the event stream of ${url}; Ctrl-C to stop\n` +
        `error: could not reach the proxy at ${url} (ECONNREFUSED)\n`,
    );
  });

  it('a port fetch refuses (6667): says so, and not that the proxy may not be running', async () => {
    const url = 'http://127.0.0.1:6667';
    const run = await runCli(['--health', '--url', url]);
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(
      `error: could not reach the proxy at ${url}: fetch refuses to connect to port 6667, one browsers block, and sent nothing\n` +
        'hint: run the proxy on another port (proxy-server --listen-port <port>) and point --url at that; curl reaches this one, but fetch never will\n',
    );
  });

  it('https:// to the plain HTTP proxy: says it does not speak TLS, on one line', async () => {
    const url = stack.url.replace('http://', 'https://');
    const run = await runCli(['stats', '--url', url]);
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(
      `error: could not reach the proxy at ${url}: it does not speak TLS on that port (https:// to a plain HTTP server?)\n` +
        'hint: proxy-server itself serves plain HTTP: use http://, or the https:// URL of the TLS front in front of it\n',
    );
  });

  it('takes the URL from PROXY_URL, and --json gets an error document', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const run = await runCli(['--task-id', 'abc', '--wait', '--json'], { env: { PROXY_URL: url } });
    expect(run.code).toBe(3);
    expect(jsonOf(run)).toMatchObject({
      success: false,
      error: { code: 'proxy_unreachable', exit_code: 3, message: expect.stringContaining(url) },
    });
  });
});

describe('exit 5: --health finds the proxy degraded', () => {
  it('names the store and why it cannot be used', async () => {
    // What a proxy on a Redis that has gone answers: its target fine, its store not.
    const url = await startFakeProxy((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          success: true,
          status: 'degraded',
          target: { url: 'http://127.0.0.1:9', reachable: true, latency_ms: 2 },
          store: {
            kind: 'redis',
            available: false,
            message: 'cannot reach Redis at redis://127.0.0.1:6390/0: connect ECONNREFUSED',
          },
        }),
      );
    });
    const run = await runCli(['--health', '--url', url]);
    expect(run.code).toBe(5);
    expect(run.stdout).toContain('store.available\tfalse');
    expect(run.stderr).toContain(
      'error: the proxy is degraded: its task store cannot be used (cannot reach Redis at redis://127.0.0.1:6390/0: connect ECONNREFUSED)',
    );
  });
});

describe('exit 5: a gateway in front of the proxy answers', () => {
  it('an HTML 502 (nginx while the proxy restarts): the hint says a gateway answered, not that --url is wrong', async () => {
    const url = await startFakeProxy((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><body><center><h1>502 Bad Gateway</h1></center></body></html>');
    });
    const run = await runCli(['stats', '--url', url]);
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('(GET /stats answered 502)');
    expect(run.stderr).toContain(
      'hint: a gateway in front of the proxy answered, not the proxy: it may be restarting or down behind it',
    );
    // UI pass: behind a gateway serving the proxy under /proxy, a --url without it lands here.
    expect(run.stderr).toContain('and that --url has the path the gateway serves it under');
    expect(run.stderr).not.toContain('not at its target');
  });
});

describe('exit 5: --url answers with a redirect', () => {
  it('names where it points, and the hint the --url to use (http:// sent on to https://)', async () => {
    const url = await startFakeProxy((req, res) => {
      res.writeHead(301, { location: `https://example.invalid${req.url}` });
      res.end();
    });
    const run = await runCli(['stats', '--url', url]);
    expect(run.code).toBe(5);
    expect(run.stderr).toContain(
      `error: ${url} does not answer like a proxy-server (GET /stats answered 301, a redirect to https://example.invalid/stats)`,
    );
    expect(run.stderr).toContain(
      'hint: the CLI follows no redirect (a submission would lose its method and body): if the proxy is there, use --url https://example.invalid',
    );
    expect(run.stderr).not.toContain('not at its target');
  });

  it('behind a gateway under a path, the --url to use keeps it', async () => {
    const url = await startFakeProxy((req, res) => {
      res.writeHead(308, { location: `https://example.invalid${req.url}` });
      res.end();
    });
    const run = await runCli(['list', '--url', `${url}/proxy`, '--json']);
    expect(run.code).toBe(5);
    expect(jsonOf(run)).toMatchObject({
      error: {
        code: 'not_a_proxy',
        exit_code: 5,
        message: expect.stringContaining('a redirect to https://example.invalid/proxy/tasks'),
        hint: expect.stringContaining('use --url https://example.invalid/proxy'),
      },
    });
  });

  it('a redirect elsewhere (a login page, a relative Location): named, and no --url guessed', async () => {
    const url = await startFakeProxy((_req, res) => {
      res.writeHead(302, { location: '/login?next=%2Fstats' });
      res.end();
    });
    const run = await runCli(['stats', '--url', url]);
    expect(run.code).toBe(5);
    expect(run.stderr).toContain(
      `(GET /stats answered 302, a redirect to ${url}/login?next=%2Fstats)`,
    );
    expect(run.stderr).toContain(
      "hint: the CLI follows no redirect (a submission would lose its method and body): point --url (or PROXY_URL) at the proxy's own URL",
    );
  });
});

describe('exit 5: the proxy cannot use its store', () => {
  it("store_unavailable: a hint naming the store and the proxy's Retry-After", async () => {
    const url = await startFakeProxy((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(
        JSON.stringify({
          success: false,
          error: 'store_unavailable',
          message: 'cannot reach Redis at redis://127.0.0.1:6390/0',
        }),
      );
    });
    const run = await runCli(['stats', '--url', url]);
    expect(run.code).toBe(5);
    expect(run.stderr).toBe(
      `error: cannot reach Redis at redis://127.0.0.1:6390/0 (GET ${url}/stats answered 503)\n` +
        "hint: the proxy's store (its SQLite file or Redis) is unreachable; try again in 1 s\n",
    );
    const json = await runCli(['stats', '--json', '--url', url]);
    expect(jsonOf(json)).toMatchObject({
      error: { code: 'store_unavailable', exit_code: 5, retry_after_s: 1 },
    });
  });
});

describe('exit 124: --timeout', () => {
  it('gives up, says the task goes on, and how to resume', async () => {
    const id = await client.submitTask('api/long?seconds=5', undefined, { method: 'GET' });
    const started = performance.now();
    const run = await runCli(['--task-id', id, '--wait', '--timeout', '0.5', '--url', stack.url]);
    expect(run.code).toBe(124);
    expect(performance.now() - started).toBeLessThan(4000);
    expect(run.stderr).toMatch(
      new RegExp(`error: gave up after 500 ms; task ${id} goes on on the proxy`),
    );
    expect(run.stderr).toContain(
      `resume waiting with: proxy-cli --url ${stack.url} --task-id ${id} --wait`,
    );
    expect((await client.getTask(id)).status).not.toBe('failed');
  });

  it('--json: the task id, its last status and the resume command are fields', async () => {
    const id = await client.submitTask('api/long?seconds=5', undefined, { method: 'GET' });
    const run = await runCli(['wait', id, '--timeout', '0.5', '--json', '--url', stack.url]);
    expect(run.code).toBe(124);
    expect(jsonOf(run)).toEqual({
      success: false,
      error: {
        code: 'timeout',
        exit_code: 124,
        message: expect.stringContaining(id),
        hint: expect.stringContaining('resume waiting with'),
        task_id: id,
        status: expect.stringMatching(/^(pending|processing)$/),
        resume_command: `proxy-cli --url ${stack.url} --task-id ${id} --wait --json`,
      },
    });
  });
});

/** A server that takes requests and never answers; closed when the test ends. */
async function silentServer(): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const url = await startFakeProxy((req) => void seen.push(`${req.method} ${req.url}`));
  return { url, seen };
}

/** A well-formed task id for the calls a silent proxy never answers. */
const SILENT_ID = '00000000-0000-4000-8000-00000000f00d';

describe('exit 124: --timeout covers every request of the call', () => {
  it('wait: a proxy that never answers the first read', async () => {
    const { url } = await silentServer();
    const id = '00000000-0000-4000-8000-00000000beef';
    const started = performance.now();
    const run = await runCli(['wait', id, '--timeout', '1', '--url', url]);
    expect(run.code).toBe(124);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(run.stderr).toContain(`gave up after 1.0 s; before the proxy answered for task ${id}`);
    expect(run.stderr).toContain(`resume waiting with: proxy-cli --url ${url} --task-id ${id}`);
  });

  // These waited out the SDK's 30 s, and refused --timeout (exit 2): nothing bounded them.
  // Review: a cancel or cleanup without an answer was not said to have perhaps been made.
  it.each([
    [['stats'], 'GET /stats', ''],
    [['list'], 'GET /tasks', ''],
    [['health'], 'GET /health', ''],
    [
      ['cleanup', '48'],
      'DELETE /tasks/cleanup',
      '; the cleanup may have run all the same, and running it again is harmless: proxy-cli --url {url} --cleanup 48 --json',
    ],
    [
      ['cancel', SILENT_ID],
      `DELETE /task/${SILENT_ID}`,
      `; the cancel may have reached the proxy all the same, and sending it again is safe: proxy-cli --url {url} --cancel ${SILENT_ID} --json`,
    ],
    [['task', SILENT_ID], `GET /task/${SILENT_ID}`, ''],
  ])('%j: a proxy that never answers, ended by --timeout', async (args, request, madeMaybe) => {
    const { url, seen } = await silentServer();
    const started = performance.now();
    const run = await runCli([...args, '--timeout', '1', '--json', '--url', url]);
    expect(run.code).toBe(124);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(seen[0]).toMatch(new RegExp(`^${request}`));
    expect(run.stderr).toContain(
      `error: no answer from the proxy at ${url} within 1.0 s (--timeout)\n`,
    );
    expect(jsonOf(run)).toMatchObject({
      success: false,
      error: { code: 'timeout', exit_code: 124 },
    });
    // The same words as for the SDK's own timeout (cli-error.test.ts): the proxy is there.
    expect(jsonOf<{ error: { hint?: string } }>(run).error.hint).toBe(
      `the proxy took the connection but did not answer: check that --url (or PROXY_URL) is the proxy and that it is not stuck, or give it a longer --timeout${madeMaybe.replace('{url}', url)}`,
    );
  });

  // Review: without --wait these refused --timeout, and a silent proxy held them for the SDK's
  // 30 s and its retries.
  it.each([
    [['submit', 'api/function1'], 'POST /api/function1', 'while submitting POST /api/function1'],
    [
      ['retry', SILENT_ID],
      `POST /task/${SILENT_ID}/retry`,
      `while running task ${SILENT_ID} again`,
    ],
  ])(
    '%j without --wait: a proxy that never answers, ended by --timeout',
    async (args, request, doing) => {
      const { url, seen } = await silentServer();
      const started = performance.now();
      const run = await runCli([...args, '--timeout', '1', '--url', url]);
      expect(run.code).toBe(124);
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(seen[0]).toMatch(new RegExp(`^${request}`));
      expect(run.stderr).toContain(`gave up after 1.0 s ${doing}`);
    },
  );

  it('submit --wait: a proxy that never answers the submission, and the command to send it again', async () => {
    const { url, seen } = await silentServer();
    const started = performance.now();
    const run = await runCli([
      'submit',
      'api/function1',
      '--data',
      '{"a": 1}',
      '--wait',
      '--timeout',
      '1',
      '--url',
      url,
    ]);
    expect(run.code).toBe(124);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(seen).toEqual(['POST /api/function1']);
    expect(run.stderr).toMatch(
      /gave up after 1.0 s while submitting POST \/api\/function1; the task may have been created/,
    );
    expect(run.stderr).toMatch(
      new RegExp(
        `proxy-cli --url ${url} --submit api/function1 --method POST --data '\\{"a": 1\\}' --idempotency-key proxy-cli-[0-9a-f-]+ --wait`,
      ),
    );
  });

  it('submit --wait --json: the command to send it again repeats --poll-interval and --json', async () => {
    const { url } = await silentServer();
    const run = await runCli([
      'submit',
      'api/function1',
      '--wait',
      '--json',
      '--poll-interval',
      '0.5',
      '--timeout',
      '1',
      '--url',
      url,
    ]);
    expect(run.code).toBe(124);
    const { error } = jsonOf<{ error: { hint: string } }>(run);
    expect(error.hint).toMatch(
      / --idempotency-key proxy-cli-[0-9a-f-]+ --wait --poll-interval 0\.5 --json$/,
    );
    expect(run.stderr).toContain(error.hint);
  });
});

describe('exit 124: --timeout spent partly on the submission', () => {
  it('submit --wait: the task is waited for until the rest of --timeout runs out', async () => {
    const started = performance.now();
    const run = await runCli([
      'submit',
      'api/long?seconds=20',
      '--method',
      'GET',
      '--wait',
      '--timeout',
      '3',
      '--url',
      stack.url,
    ]);
    expect(run.code).toBe(124);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(run.stderr).toMatch(/gave up after 3\.0 s; task [0-9a-f-]{36} goes on on the proxy/);
  });

  it('wait: a --timeout of a fraction of a millisecond is no crash', async () => {
    const id = await client.submitTask('api/long?seconds=5', undefined, { method: 'GET' });
    const run = await runCli(['wait', id, '--timeout', '0.1234', '--url', stack.url]);
    expect(run.code).toBe(124);
    expect(run.stderr).not.toContain('unexpected error');
  });

  it('retry --wait: a proxy that never answers the retry', async () => {
    const { url, seen } = await silentServer();
    const id = '00000000-0000-4000-8000-00000000cafe';
    const started = performance.now();
    const run = await runCli(['retry', id, '--wait', '--timeout', '1', '--url', url]);
    expect(run.code).toBe(124);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(seen).toEqual([`POST /task/${id}/retry`]);
    expect(run.stderr).toContain(`gave up after 1.0 s while running task ${id} again`);
  });
});

describe('exit 130: Ctrl-C while waiting', () => {
  it('stops waiting, the task goes on, and the exact command to resume is printed', async () => {
    const id = await client.submitTask('api/long?seconds=3', undefined, { method: 'GET' });
    const cli = spawnCli(['--task-id', id, '--wait', '--url', stack.url]);
    await cli.waitForStderr(/waiting for task/);
    cli.child.kill('SIGINT');
    const run = await cli.done;
    expect(run.code).toBe(130);
    expect(run.stderr).toMatch(
      new RegExp(`error: stopped waiting; task ${id} goes on on the proxy`),
    );
    const resume = `proxy-cli --url ${stack.url} --task-id ${id} --wait`;
    expect(run.stderr).toContain(`hint: resume waiting with: ${resume}`);

    // The hint works: the task finished on the proxy meanwhile and the same command collects it.
    const resumed = await runCli(resume.split(' ').slice(1));
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('completed');
  });

  it('with --json, even while a request is in flight: exit 130 and an error document', async () => {
    // A proxy that takes requests and never answers: the CLI is surely mid-wait when it sees one.
    const seen: string[] = [];
    const url = await startFakeProxy((req) => void seen.push(req.url ?? ''));
    const id = '00000000-0000-4000-8000-00000000abcd';

    const cli = spawnCli(['--task-id', id, '--wait', '--json', '--url', url]);
    await waitFor(() => seen.length > 0, { what: 'the CLI to ask for the task' });
    cli.child.kill('SIGINT');
    const run = await cli.done;
    expect(run.code).toBe(130);
    expect(jsonOf(run)).toMatchObject({
      error: {
        code: 'interrupted',
        exit_code: 130,
        task_id: id,
        resume_command: `proxy-cli --url ${url} --task-id ${id} --wait --json`,
      },
    });
    expect(run.stderr).toContain(
      `resume waiting with: proxy-cli --url ${url} --task-id ${id} --wait --json`,
    );
  });
});

// Review: Ctrl-C before a silent proxy answered a cancel, a cleanup or the demo said only
// "interrupted": not what may have happened all the same, as submit and retry say.
describe('exit 130: Ctrl-C before the proxy answers a call that changes something', () => {
  it.each([
    [
      ['cancel', SILENT_ID],
      `interrupted while cancelling task ${SILENT_ID}; the cancel may have reached the proxy all the same`,
      `sending it again is safe: proxy-cli --url {url} --cancel ${SILENT_ID} --json`,
      { task_id: SILENT_ID },
    ],
    [
      ['cleanup', '48'],
      'interrupted while removing finished tasks older than 48 hours; the cleanup may have run all the same',
      'running it again is harmless: proxy-cli --url {url} --cleanup 48 --json',
      {},
    ],
  ])(
    '%j: what may have happened, and the command to do it again',
    async (args, message, hintOf, details) => {
      const { url, seen } = await silentServer();
      const cli = spawnCli([...args, '--json', '--url', url]);
      await waitFor(() => seen.length > 0, { what: 'the call to reach the proxy' });
      cli.child.kill('SIGINT');
      const run = await cli.done;
      expect(run.code).toBe(130);
      const hint = hintOf.replace('{url}', url);
      expect(run.stderr).toBe(`error: ${message}\nhint: ${hint}\n`);
      expect(jsonOf(run)).toEqual({
        success: false,
        error: { code: 'interrupted', exit_code: 130, message, hint, ...details },
      });
    },
  );

  it('demo batch: its tasks, if it made any, go on, and where to see them', async () => {
    const { url, seen } = await silentServer();
    const cli = spawnCli(['demo', 'batch', '--json', '--url', url]);
    await waitFor(() => seen.length > 0, { what: 'the demo to ask for /health' });
    cli.child.kill('SIGINT');
    const run = await cli.done;
    expect(run.code).toBe(130);
    expect(seen).toEqual(['GET /health']);
    const message =
      'interrupted during the demo; the tasks it submitted, if any, go on on the proxy';
    const hint = `see them with: proxy-cli --url ${url} --list-tasks`;
    expect(run.stderr).toBe(`error: ${message}\nhint: ${hint}\n`);
    expect(jsonOf(run)).toEqual({
      success: false,
      error: { code: 'interrupted', exit_code: 130, message, hint },
    });
  });
});

describe('exit 143 and 129: SIGTERM and SIGHUP while waiting, as Ctrl-C', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('%s: exit %i, the error document and the resume command', async (signal, code) => {
    const seen: string[] = [];
    const url = await startFakeProxy((req) => void seen.push(req.url ?? ''));
    const id = '00000000-0000-4000-8000-00000000abcd';

    const cli = spawnCli(['wait', id, '--json', '--url', url]);
    await waitFor(() => seen.length > 0, { what: 'the CLI to ask for the task' });
    cli.child.kill(signal);
    const run = await cli.done;
    expect(run.signal).toBeNull();
    expect(run.code).toBe(code);
    expect(jsonOf(run)).toMatchObject({
      success: false,
      error: {
        code: 'interrupted',
        exit_code: code,
        task_id: id,
        resume_command: `proxy-cli --url ${url} --task-id ${id} --wait --json`,
      },
    });
    expect(run.stderr).toContain(
      `error: stopped waiting; before the proxy answered for task ${id}`,
    );
    expect(run.stderr).toContain(
      `hint: resume waiting with: proxy-cli --url ${url} --task-id ${id} --wait --json`,
    );
  });
});

// The review: on a terminal, SIGHUP means the terminal is gone, and Node aborts (exit 134) at a
// write to it. There the signal ends the run itself, saying nothing, as it did before.
describe('SIGHUP with the output on a terminal', () => {
  it('ends the run by the signal, writing nothing (exit 129 all the same)', async () => {
    const seen: string[] = [];
    const url = await startFakeProxy((req) => void seen.push(req.url ?? ''));
    const id = '00000000-0000-4000-8000-00000000abcd';
    // `script` gives the CLI a pseudo-terminal for stdout and stderr, and exits with its status.
    const command = `exec ${process.execPath} ${proxyCliBin} wait ${id} --url ${url}`;
    const terminal = spawn('script', ['-qfec', command, '/dev/null'], { stdio: 'pipe' });
    let shown = '';
    terminal.stdout.setEncoding('utf8').on('data', (chunk: string) => (shown += chunk));
    const exited = new Promise<number | null>((resolve) => terminal.once('close', resolve));
    await waitFor(() => seen.length > 0, { what: 'the CLI to ask for the task' });
    const cli = await new Promise<number>((resolve, reject) => {
      const pgrep = spawn('pgrep', ['-P', String(terminal.pid)], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let out = '';
      pgrep.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      pgrep.once('close', () =>
        out.trim() ? resolve(Number(out.trim())) : reject(new Error('no CLI')),
      );
    });
    process.kill(cli, 'SIGHUP');
    expect(await exited).toBe(129);
    expect(shown).not.toContain('stopped waiting');
  });
});

describe('exit 74: stdout cannot be written', () => {
  it.runIf(existsSync('/dev/full'))(
    'a full disk (/dev/full): one line on stderr, no stack trace',
    async () => {
      const full = openSync('/dev/full', 'w');
      const child = spawn(process.execPath, [proxyCliBin, 'stats', '--url', stack.url], {
        stdio: ['ignore', full, 'pipe'],
      });
      closeSync(full);
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      expect(stderr).toBe('error: cannot write to stdout (ENOSPC: no space left on device)\n');
      expect(code).toBe(74);
    },
  );
});

describe('colours', () => {
  it('off when not a terminal; FORCE_COLOR turns them on; NO_COLOR and --no-color win', async () => {
    const task = await client.waitForTask(await client.submitTask('api/function1'), {
      pollIntervalMs: 20,
    });
    const show = (env: Record<string, string>, ...extra: string[]) =>
      runCli(['--task-id', task.task_id, '--url', stack.url, ...extra], { env });
    const green = '\u001b[32mcompleted\u001b[39m';

    const piped = await show({});
    expect(piped.stdout).toContain('completed');
    expect(piped.stdout).not.toContain(ANSI);

    expect((await show({ FORCE_COLOR: '1' })).stdout).toContain(green);
    expect((await show({ FORCE_COLOR: '1', NO_COLOR: '1' })).stdout).not.toContain(ANSI);
    expect((await show({ FORCE_COLOR: '1' }, '--no-color')).stdout).not.toContain(ANSI);
    expect((await show({ FORCE_COLOR: '1' }, '--json')).stdout).not.toContain(ANSI);
  });
});
