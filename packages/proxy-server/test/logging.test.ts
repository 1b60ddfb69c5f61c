import type { DataBody, SubmitBody, Task } from 'proxy-client/wire';
import { spawnProxyServer, waitFor } from 'test-support';
import { describe, expect, it } from 'vitest';
import { storeUnavailable } from '../src/engine/store-unavailable.js';
import { logStreamFor } from '../src/logging/log-stream.js';
import { createLogger } from '../src/logging/logger.js';
import { jsonLogLines, startTarget } from './helper.js';

// The built bin's log, as an operator gets it: what is on every line, and what is on none.

interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
  taskId?: string;
  req?: { method: string; url: string };
  [field: string]: unknown;
}

describe('the log of a run with an API key, a cookie and a body', () => {
  it('carries no secret, names the request on every line about one, and each transition once', async () => {
    const secrets = {
      apiKey: 'key-7d1f0c2e9b',
      cookie: 'cookie-5a8e3b1d4f',
      body: 'body-9c2f7e1a6d',
      query: 'query-3e6b9d2a8c',
      idempotencyKey: 'idem-1b4d7f0a3e',
      setCookie: 'answer-cookie-2f8a',
    };
    const target = await startTarget();
    const proxy = await spawnProxyServer({
      args: [
        '--target-url',
        target.url,
        '--api-key',
        secrets.apiKey,
        '--log-level',
        'trace',
        '--log-format',
        'json',
        '--store',
        'memory',
        // A 502 is called twice, soon: the retry has its line too.
        '--retry-on',
        '502',
        '--max-attempts',
        '2',
        '--retry-min-delay',
        '0.05',
        '--retry-max-delay',
        '0.1',
      ],
    });
    const auth = { authorization: `Bearer ${secrets.apiKey}` };
    const call = async (method: string, path: string, init: RequestInit = {}) => {
      const response = await fetch(proxy.url + path, {
        ...init,
        method,
        headers: { ...auth, ...(init.headers as Record<string, string>) },
      });
      return { status: response.status, body: (await response.json()) as unknown };
    };
    const finished = (id: string) =>
      waitFor(
        async () => {
          const task = ((await call('GET', `/task/${id}?wait=5`)).body as DataBody<Task>).data;
          return task.completed_at === null ? undefined : task;
        },
        { what: `task ${id} to finish` },
      );

    try {
      // A submission carrying every secret: the echo target answers with all of them.
      const submitted = await call('POST', `/api/echo?token=${secrets.query}`, {
        headers: {
          cookie: `session=${secrets.cookie}`,
          'idempotency-key': secrets.idempotencyKey,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ password: secrets.body }),
      });
      expect(submitted.status).toBe(202);
      const echoId = (submitted.body as SubmitBody).task_id;
      const echo = await finished(echoId);
      expect(JSON.stringify(echo.result)).toContain(secrets.cookie);
      // A failure (a warning), a cancel, a retry, a wrong key and a cleanup.
      const failId = ((await call('POST', '/api/fail?status=502')).body as SubmitBody).task_id;
      await finished(failId);
      const longId = ((await call('POST', '/api/long?seconds=60')).body as SubmitBody).task_id;
      expect((await call('DELETE', `/task/${longId}`)).status).toBe(200);
      const retry = await call('POST', `/task/${failId}/retry`);
      expect(retry.status).toBe(202);
      await finished((retry.body as SubmitBody).task_id);
      const wrongKey = await fetch(`${proxy.url}/stats`, {
        headers: { authorization: 'Bearer wrong-key', cookie: `session=${secrets.cookie}` },
      });
      expect(wrongKey.status).toBe(401);
      expect((await call('DELETE', '/tasks/cleanup?max_age_hours=0')).status).toBe(200);
    } finally {
      await proxy.stop();
    }

    const output = proxy.output();
    for (const [what, secret] of Object.entries(secrets)) {
      expect(output.includes(secret), `${what} in the log`).toBe(false);
    }
    expect(output).not.toContain(
      Buffer.from(JSON.stringify({ password: secrets.body })).toString('base64'),
    );

    const lines = jsonLogLines<LogLine>(output);
    expect(lines.length).toBeGreaterThan(20);
    // Fastify's own lines (incoming request, request completed) and ours about a request.
    const aboutRequests = lines.filter((line) => line.req !== undefined || line.res !== undefined);
    expect(aboutRequests.length).toBeGreaterThan(10);
    expect(aboutRequests.filter((line) => typeof line.reqId !== 'string')).toEqual([]);

    // Every transition once (of each attempt), with its task id; those a request made name that
    // request.
    const transitions = lines.filter((line) => line.taskId !== undefined);
    const seen = transitions.map((line) => `${line.taskId} ${line.msg} ${line.attempt ?? ''}`);
    expect(new Set(seen).size).toBe(seen.length);
    const incoming = new Map(
      lines
        .filter((line) => line.msg === 'incoming request' && line.req)
        .map((line) => [line.reqId, `${line.req?.method} ${line.req?.url}`]),
    );
    const madeBy = (msg: string) =>
      transitions.filter((line) => line.msg === msg).map((line) => incoming.get(line.reqId));
    expect(madeBy('task created').sort()).toEqual(
      [
        'POST /api/echo',
        'POST /api/fail',
        'POST /api/long',
        expect.stringMatching(/^POST \/task\/[0-9a-f-]+\/retry$/),
      ].sort(),
    );
    expect(madeBy('task cancelled')).toEqual([
      `DELETE /task/${transitions.find((l) => l.msg === 'task cancelled')?.taskId}`,
    ]);
    // Finishes the target caused name no request; a failure is a warning.
    expect(transitions.filter((l) => l.msg === 'task completed' && l.reqId !== undefined)).toEqual(
      [],
    );
    const failed = transitions.filter((line) => line.msg === 'task failed');
    expect(failed.length).toBe(2);
    expect(failed.every((line) => line.level === 40)).toBe(true);
    // Review: a finish read "processingMs":56.42855099999724, where the docs show whole ms.
    const durations = transitions
      .filter((line) => ['task completed', 'task failed', 'task cancelled'].includes(line.msg))
      .map((line) => line.processingMs);
    expect(durations).toHaveLength(4);
    expect(durations.filter((ms) => typeof ms === 'number')).not.toEqual([]);
    expect(durations.filter((ms) => ms !== null && !Number.isInteger(ms))).toEqual([]);
    // A call that will be made again is not a failure yet: an info line, once per retry.
    const retrying = transitions.filter((line) => line.msg === 'task will be retried');
    expect(
      retrying.map((line) => [line.taskId, line.level, line.attempt, line.statusCode]),
    ).toEqual(failed.map((line) => [line.taskId, 30, 1, 502]));
    expect(lines.find((line) => line.msg === 'finished tasks removed')?.reqId).toEqual(
      expect.any(String),
    );
    // Paths without their query: no line has one.
    expect(lines.filter((line) => JSON.stringify(line).includes('?'))).toEqual([]);
  });
});

// Operator pass: troubleshooting.md sends an upstream_error to "the proxy log has the details",
// but the failed line carried the code alone, at every level: why the call failed was only in
// the task, which a log search by task id does not show. The line now carries its message.
describe('the line of a failed task', () => {
  it("says why the call failed, in the task's own words", async () => {
    const target = await startTarget();
    // https to a port that speaks plain HTTP: an upstream_error whose code tells nothing alone.
    const proxy = await spawnProxyServer({
      args: ['--target-url', target.url.replace('http:', 'https:'), '--store', 'memory'],
    });
    let id = '';
    try {
      const submitted = await fetch(`${proxy.url}/api/function1`, { method: 'POST' });
      id = ((await submitted.json()) as SubmitBody).task_id;
      await waitFor(() => proxy.output().includes('task failed'), { what: 'the failed line' });
    } finally {
      await proxy.stop();
    }
    const failed = jsonLogLines<LogLine>(proxy.output()).find((line) => line.msg === 'task failed');
    expect(failed).toMatchObject({ taskId: id, error: 'upstream_error' });
    expect(failed?.errorMessage).toEqual(expect.stringContaining('does not speak TLS'));
  });
});

describe('the log format', () => {
  it('is JSON when stdout is not a terminal, and the start lines stay as they are', async () => {
    const target = await startTarget();
    const proxy = await spawnProxyServer({
      args: ['--target-url', target.url, '--store', 'memory'],
    });
    try {
      await fetch(`${proxy.url}/api/function1`, { method: 'POST' });
      await waitFor(() => proxy.output().includes('task completed'), {
        what: 'the completed line',
      });
    } finally {
      await proxy.stop();
    }
    // The stop's own lines are for people, on stderr like the warnings.
    const [store, listening, ...rest] = proxy
      .output()
      .trimEnd()
      .split('\n')
      .filter(
        (line) =>
          !line.startsWith('proxy-server: SIGTERM: stopping;') &&
          line !== 'proxy-server: stopped: no call was in flight',
      );
    expect(store).toBe(
      'proxy-server: tasks kept in memory (--store memory): they are lost when the process ends',
    );
    expect(listening).toMatch(
      /^proxy-server listening on http:\/\/127\.0\.0\.1:\d+ \(target http:\/\/127\.0\.0\.1:\d+\)$/,
    );
    // No warning with the default flags; every other line is a JSON object.
    expect(rest.length).toBeGreaterThan(2);
    for (const line of rest) expect(() => JSON.parse(line), line).not.toThrow();
  });

  it('is readable lines with --log-format pretty (what a terminal gets on auto)', async () => {
    const target = await startTarget();
    const proxy = await spawnProxyServer({
      args: ['--target-url', target.url, '--store', 'memory', '--log-format', 'pretty'],
      env: { NO_COLOR: '1' },
    });
    let id = '';
    try {
      const response = await fetch(`${proxy.url}/api/function1`, { method: 'POST' });
      id = ((await response.json()) as SubmitBody).task_id;
      await waitFor(() => proxy.output().includes('task completed'), {
        what: 'the completed line',
      });
    } finally {
      await proxy.stop();
    }
    const lines = proxy.output().trimEnd().split('\n');
    expect(lines[1]).toMatch(/^proxy-server listening on http:\/\/127\.0\.0\.1:\d+ /);
    const created = lines.find((line) => line.includes('task created'));
    expect(created).toMatch(
      new RegExp(
        `^\\[\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\] INFO: task created \\{"reqId":"req-\\w+","taskId":"${id}"`,
      ),
    );
    expect(lines.filter((line) => line.startsWith('{'))).toEqual([]);
  });
});

describe('logStreamFor', () => {
  it.each([
    ['auto', true, 'pretty'],
    ['auto', false, 'json'],
    ['json', true, 'json'],
    ['pretty', false, 'pretty'],
  ] as const)('--log-format %s, stdout a terminal: %s → %s', async (format, isTTY, expected) => {
    const stream = await logStreamFor(format, { isTTY }, {});
    expect(stream === undefined ? 'json' : 'pretty').toBe(expected);
  });
});

describe('an error with a cause, on a line', () => {
  it("says the cause's words once: in the cause, not appended to a message that has them", () => {
    const written: string[] = [];
    const log = createLogger('info', { write: (line) => written.push(line) });
    const full = new Error('database or disk is full');
    log.warn({ err: storeUnavailable('saving outcomes', full) }, 'task store unavailable');

    const { err } = JSON.parse(written[0] ?? '') as {
      err: { message: string; cause: { message: string } };
    };
    expect(err.message).toBe('saving outcomes: database or disk is full');
    expect(err.cause.message).toBe('database or disk is full');
  });
});

describe("a Redis command's failure, on a line", () => {
  it("names the command but not its arguments: a script's text, and a task's headers and body", () => {
    const written: string[] = [];
    const log = createLogger('info', { write: (line) => written.push(line) });
    // What ioredis rejects with when Redis refuses a script (full, or an ACL without a command).
    const refused = Object.assign(
      new Error('OOM command not allowed when used memory > maxmemory.'),
      {
        command: {
          name: 'evalsha',
          args: [
            'local P = ARGV[1] -- the whole script',
            'authorization\0Bearer tok-123',
            'x'.repeat(10_240),
          ],
        },
      },
    );
    log.error({ err: refused }, 'task store: saving a new task');
    log.error({ err: storeUnavailable('saving a new task', refused) }, 'task store unavailable');

    for (const line of written) {
      expect(line).not.toContain('tok-123');
      expect(line).not.toContain('the whole script');
      expect(line).not.toContain('x'.repeat(100));
    }
    const [direct, wrapped] = written.map(
      (line) => JSON.parse(line) as { err: { command?: unknown; cause?: { command?: unknown } } },
    );
    expect(direct?.err.command).toEqual({ name: 'evalsha' });
    expect(wrapped?.err.cause?.command).toEqual({ name: 'evalsha' });
  });
});
