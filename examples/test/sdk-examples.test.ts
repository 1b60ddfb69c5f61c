import type { SlowTarget } from 'slow-target';
import { freePort, spawnProxyServer } from 'test-support';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { proxyFor, runExample, startSlowTarget } from './support/example-environment.js';
import { describeRun } from './support/run-process.js';

let target: SlowTarget;
beforeAll(async () => {
  target = await startSlowTarget();
});
afterAll(async () => {
  await target?.close();
});

describe('submit-and-wait.ts', () => {
  it('prints the target answer of a completed task', async () => {
    const PROXY_URL = await proxyFor(target);
    const result = await runExample('submit-and-wait.ts', { PROXY_URL });
    expect(result.code, describeRun('submit-and-wait.ts', result)).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      function: 'function1',
      params: { param1: 'value1', param2: 'value2', param3: 100 },
    });
    expect(result.stderr).toMatch(/^submitted: task [0-9a-f-]{36}$/m);
    expect(result.stderr).toMatch(/^status: completed$/m);
  });
});

describe('batch.ts', () => {
  it('finishes 100 tasks with at most BATCH_CONCURRENCY in the caller at once', async () => {
    // A queue smaller than the batch: only the client-side bound keeps it from overflowing.
    const PROXY_URL = await proxyFor(target, ['--max-queue-size', '30']);
    target.resetStats();
    const result = await runExample('batch.ts', { PROXY_URL, BATCH_CONCURRENCY: '20' });
    expect(result.code, describeRun('batch.ts', result)).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ total: 100, completed: 100, failed: 0 });
    // Piped, a line per tenth of the batch rather than a line per task.
    const lines = result.stderr.trim().split('\n');
    expect(lines.map((line) => line.split(' ')[0])).toEqual(
      Array.from({ length: 10 }, (_, i) => `${(i + 1) * 10}/100`),
    );
    expect(lines.at(-1)).toMatch(/^100\/100 done, 0 failed, [\d.]+ s$/);
    expect(target.stats().byPath['/api/function1']).toBe(100);
    // The proxy's default cap of 5 upstream calls held while 20 were waiting.
    expect(target.stats().maxInFlight).toBeLessThanOrEqual(5);
  });
});

// Review: with the target up, a batch whose tasks failed ended with a stack trace.
describe('batch.ts with failed tasks', () => {
  it('says how many did not complete, without a stack, exit 1', async () => {
    const PROXY_URL = await proxyFor(target, ['--upstream-timeout', '0.05']);
    const result = await runExample('batch.ts', { PROXY_URL, BATCH_SIZE: '5' });
    expect(result.code, describeRun('batch.ts', result)).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({ total: 5, completed: 0, failed: 5 });
    expect(result.stderr.trim().split('\n').at(-1)).toBe('batch: 5 of 5 tasks did not complete');
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});

// Hostile pass: Ctrl-C ended the batch without a word, its submitted tasks running on unseen.
describe('batch.ts interrupted', () => {
  it('names the submitted tasks that run on at the proxy and exits 130', async () => {
    const PROXY_URL = await proxyFor(target, ['--max-concurrent', '2', '--num-workers', '2']);
    const result = await runExample(
      'batch.ts',
      { PROXY_URL, BATCH_SIZE: '50', BATCH_CONCURRENCY: '4' },
      { interruptWhen: /^5\/50 done/m },
    );
    expect(result.code, describeRun('batch.ts', result)).toBe(130);
    const tail = result.stderr.slice(result.stderr.indexOf('batch: interrupted'));
    const [first, ...rest] = tail.trim().split('\n');
    expect(first).toMatch(
      /^batch: interrupted; (1 submitted task runs|[2-4] submitted tasks run) on at the proxy:$/,
    );
    const ids = rest.slice(0, -1).map((line) => line.trim());
    expect(ids).toHaveLength(Number(first?.match(/\d/)?.[0]));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(rest.at(-1)).toBe(
      '  proxy-cli cancel <id> stops one; proxy-cli list --status pending shows what waits',
    );
    expect(result.stdout).toBe('');
  });
});

// Hostile pass: run with no proxy there, the first thing most newcomers do, each example ended
// with forty lines of stack and causes around the one line that mattered.
describe('every example with no proxy at PROXY_URL', () => {
  it.each(['submit-and-wait', 'batch', 'queue-full', 'cancel', 'watch'])(
    '%s.ts: exit 1 with one line saying so and what to do',
    async (name) => {
      const port = await freePort();
      const result = await runExample(`${name}.ts`, { PROXY_URL: `http://127.0.0.1:${port}` });
      expect(result.code, describeRun(`${name}.ts`, result)).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines[0]).toMatch(
        new RegExp(
          `^${name}: [A-Z]+ http://127\\.0\\.0\\.1:${port}/\\S+: could not reach the proxy \\(ECONNREFUSED\\)$`,
        ),
      );
      expect(lines.slice(1)).toEqual([
        '  start a proxy first (docs/getting-started.md, steps 1 to 3), or set PROXY_URL to yours',
      ]);
    },
  );
});

// Hostile pass: with the proxy up and its target down, each example ended on its own assertion
// (a stack under "expected a completed task", "queue never filled", 100 failed without a reason).
describe('every example with a proxy whose target is down', () => {
  it.each(['submit-and-wait', 'batch', 'queue-full', 'cancel', 'watch'])(
    '%s.ts: exit 1, saying the proxy cannot reach its target and what to do',
    async (name) => {
      const port = await freePort();
      const proxy = await spawnProxyServer({
        args: ['--target-host', '127.0.0.1', '--target-port', String(port), '--log-level', 'error'],
      });
      onTestFinished(async () => {
        await proxy.stop('SIGKILL');
      });
      const result = await runExample(`${name}.ts`, { PROXY_URL: proxy.url, BATCH_SIZE: '5' });
      expect(result.code, describeRun(`${name}.ts`, result)).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines.slice(-2)).toEqual([
        `${name}: the proxy cannot reach its target, http://127.0.0.1:${port} (GET ${proxy.url}/health says so)`,
        '  start the target (docs/getting-started.md, step 2), or restart the proxy with --target-host and --target-port set to yours',
      ]);
      expect(result.stderr).not.toMatch(/^\s+at /m);
    },
  );
});

describe('the examples and the proxy’s settings', () => {
  // Hostile pass: the examples never sent PROXY_API_KEY, so none worked with a proxy that wants
  // a key, and a PROXY_URL without a scheme ended in a stack trace.
  it('send PROXY_API_KEY, and say what to set when the proxy wants a key', async () => {
    const PROXY_URL = await proxyFor(target, ['--api-key', 'sekret-123']);
    const refused = await runExample('submit-and-wait.ts', { PROXY_URL });
    expect(refused.code, describeRun('submit-and-wait.ts', refused)).toBe(1);
    expect(refused.stderr.trim().split('\n').at(-1)).toBe(
      "  set PROXY_API_KEY to the proxy's --api-key",
    );
    const taken = await runExample('submit-and-wait.ts', {
      PROXY_URL,
      PROXY_API_KEY: 'sekret-123',
    });
    expect(taken.code, describeRun('submit-and-wait.ts', taken)).toBe(0);
  });

  it('name a PROXY_URL that is no URL, exit 2', async () => {
    const result = await runExample('submit-and-wait.ts', { PROXY_URL: 'localhost:8080' });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      'submit-and-wait: PROXY_URL "localhost:8080": baseUrl must be an http(s) URL, got "localhost:8080" (did you mean "http://localhost:8080"?)',
      "  set it to the proxy's base URL, e.g. http://localhost:8080",
    ]);
  });

  // Review: the SDK refuses a submission under /api when it is made, and the example ended
  // with that TypeError's stack; queue-full.ts first read /stats there, a task for the target.
  it.each(['submit-and-wait.ts', 'queue-full.ts'])(
    '%s: name a PROXY_URL ending in /api and send nothing, exit 2',
    async (file) => {
      target.resetStats();
      const PROXY_URL = `${await proxyFor(target)}/api/`;
      const result = await runExample(file, { PROXY_URL });
      expect(result.code, describeRun(file, result)).toBe(2);
      expect(result.stderr.trim().split('\n')).toEqual([
        `${file.replace('.ts', '')}: PROXY_URL "${PROXY_URL.slice(0, -1)}": it ends in /api, where the proxy takes tasks for the target`,
        `  set it to the proxy's base URL: ${PROXY_URL.slice(0, -'/api/'.length)}`,
      ]);
      expect(target.stats().requests).toBe(0);
    },
  );

  // Review: a key the SDK cannot send was blamed on PROXY_URL.
  it('name a PROXY_API_KEY that cannot be sent, without showing it, exit 2', async () => {
    const result = await runExample('submit-and-wait.ts', {
      PROXY_URL: 'http://127.0.0.1:9',
      PROXY_API_KEY: 'two words',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).not.toContain('two words');
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^submit-and-wait: PROXY_API_KEY: apiKey must be .* \(the key is not shown here\)$/,
      ),
      "  set it to the proxy's --api-key, as it was given",
    ]);
  });
});

describe('batch.ts with a bad size', () => {
  it.each(['abc', '0', '2.5'])('BATCH_SIZE=%s: exit 2, naming it', async (size) => {
    target.resetStats();
    const result = await runExample('batch.ts', {
      PROXY_URL: 'http://127.0.0.1:9',
      BATCH_SIZE: size,
    });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      `batch: BATCH_SIZE must be a whole number, 1 or more, got '${size}'`,
    );
  });
});

describe('queue-full.ts', () => {
  it('meets 503 queue_full, then gets a task accepted with queueFullRetries', async () => {
    const PROXY_URL = await proxyFor(target, [
      '--max-queue-size',
      '6',
      '--max-concurrent',
      '2',
      '--num-workers',
      '2',
    ]);
    const result = await runExample('queue-full.ts', { PROXY_URL });
    expect(result.code, describeRun('queue-full.ts', result)).toBe(0);
    expect(result.stderr).toMatch(/503 queue_full after \d+ tasks; the proxy asks for \d+ s/);
    const summary = JSON.parse(result.stdout);
    expect(summary.accepted_before_full).toBeGreaterThanOrEqual(8);
    expect(summary.task_id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('watch.ts', () => {
  it('follows a task to its end, reads its raw answer, and cancels a running job', async () => {
    const PROXY_URL = await proxyFor(target);
    const result = await runExample('watch.ts', { PROXY_URL });
    expect(result.code, describeRun('watch.ts', result)).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.statuses.at(-1)).toBe('completed');
    expect(new Set(summary.statuses).size).toBe(summary.statuses.length);
    expect(summary.answer).toBe('hello from the target');
    expect(summary.cancelled.statuses.slice(-2)).toEqual(['processing', 'cancelled']);
    expect(summary.refused).toEqual({ code: 'task_finished', ended: 'completed' });
    expect(result.stderr).toMatch(/the target answered 200 text\/plain/);
  });
});

// Newcomer pass: behind a busy proxy, the watch's 30 s deadline ended it with a TimeoutError's
// stack, where the examples promise a line saying what went wrong.
describe('watch.ts behind a busy proxy', () => {
  it('says the task was still pending at its deadline, without a stack, exit 1', async () => {
    const PROXY_URL = await proxyFor(target, ['--max-concurrent', '1', '--num-workers', '1']);
    await fetch(`${PROXY_URL}/api/long?seconds=60`);
    const result = await runExample('watch.ts', { PROXY_URL }, { timeoutMs: 60_000 });
    expect(result.code, describeRun('watch.ts', result)).toBe(1);
    expect(result.stderr.trim().split('\n').at(-1)).toBe(
      'watch: the task was still pending after 30 s: the proxy is busy with earlier tasks? (proxy-cli stats shows its queue)',
    );
    expect(result.stderr).not.toMatch(/^\s+at /m);
  }, 70_000);
});

describe('cancel.ts', () => {
  it('stops waiting when the signal aborts while the task keeps running', async () => {
    const PROXY_URL = await proxyFor(target);
    const result = await runExample('cancel.ts', { PROXY_URL });
    expect(result.code, describeRun('cancel.ts', result)).toBe(0);
    expect(result.stderr).toMatch(/stopped waiting after \d+ ms/);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'processing' });
  });
});
