import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnProxyServer } from 'test-support';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { DemoReport } from '../../src/commands/demo.js';
import { jsonOf, runCli, type Stack, startStack } from './harness.js';

// Configured like `npm run demo` (scripts/demo.mjs): a small queue and a 2 s long-task threshold.
let stack: Stack;

beforeAll(async () => {
  stack = await startStack([
    '--max-concurrent',
    '4',
    '--num-workers',
    '4',
    '--max-queue-size',
    '10',
    '--long-task-threshold',
    '2',
  ]);
});
afterAll(() => stack?.stop());

interface DemoDocument {
  url: string;
  took_ms: number;
  demos: DemoReport[];
}

/** The report of one demo, by name, typed as that demo's report. */
function report<N extends DemoReport['name']>(doc: DemoDocument, name: N) {
  const found = doc.demos.find((d): d is Extract<DemoReport, { name: N }> => d.name === name);
  if (!found) throw new Error(`no ${name} report in ${JSON.stringify(doc)}`);
  return found;
}

describe('--demo', () => {
  it('all, --json: every demo in one document, in well under a minute', {
    timeout: 60_000,
  }, async () => {
    const run = await runCli(['--demo', 'all', '--json', '--url', stack.url]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const doc = jsonOf<DemoDocument>(run);
    expect(doc.demos.map((d) => d.name)).toEqual(['single', 'batch', 'queue-full', 'long', 'fail']);
    expect(doc.took_ms).toBeLessThan(30_000);

    expect(report(doc, 'single').task.status).toBe('completed');
    const batch = report(doc, 'batch');
    expect(batch.tasks.map((t) => t.status)).toEqual(Array(12).fill('completed'));
    // Four at a time: the batch takes well under its sum of delays.
    expect(batch.wall_ms).toBeLessThan(batch.work_ms / 2);
    const queueFull = report(doc, 'queue-full');
    expect(queueFull).toMatchObject({
      skipped: false,
      refused: {
        code: 'queue_full',
        reason: expect.stringMatching(/^The queue is full \(\d+ tasks?, --max-queue-size\)$/),
      },
      max_queue_size: 10,
      task: { status: 'completed' },
    });
    if (queueFull.skipped) throw new Error('queue-full was skipped');
    expect(queueFull.retry_after_s).toEqual(expect.any(Number));
    expect(queueFull.accepted).toBeGreaterThanOrEqual(10);
    // The SDK was refused at least once, then the proxy took the task.
    expect(queueFull.retry_answers.at(0)).toMatch(/^503 \(Retry-After: \d+ s\)$/);
    expect(queueFull.retry_answers.at(-1)).toBe('202');
    expect(report(doc, 'long').task).toMatchObject({ status: 'completed', is_long_task: true });
    expect(report(doc, 'fail').task).toMatchObject({
      status: 'failed',
      result: { status_code: 500 },
    });
  });

  it('one named demo, plain: the story on stdout, no colours off a terminal', async () => {
    const run = await runCli(['--demo', 'fail', '--url', stack.url]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`proxy-cli demo against ${stack.url}: fail`);
    expect(run.stdout).toContain('── fail: the target answers 500 ──');
    expect(run.stdout).toMatch(/^status\tfailed$/m);
    expect(run.stdout).toContain('demo done');
    expect(run.stdout).not.toContain('\u001b[');
  });
});

describe('the closing hint', () => {
  // Re-read: the line said `proxy-cli --stats` after a run given --url, which pasted alone
  // asks the default proxy; it repeats --url now, as the other follow-up hints do.
  it('points at --stats and --list-tasks of the same proxy, for one that outlives the demo', async () => {
    const run = await runCli(['--demo', 'single', '--url', stack.url]);
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n').at(-1)).toMatch(
      new RegExp(
        `^demo done in .*\\. Next: proxy-cli --url ${stack.url} --stats, proxy-cli --url ${stack.url} --list-tasks$`,
      ),
    );
  });

  it('says the proxy has stopped when npm run demo, which stops it, runs the CLI', async () => {
    const run = await runCli(['--demo', 'single', '--url', stack.url], {
      env: { PROXY_CLI_DEMO_PROXY_STOPS: '1' },
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('The demo proxy has stopped');
    expect(run.stdout).toContain('docs/getting-started.md');
    expect(run.stdout).not.toContain('Next:');
  });

  it('npm run demo (scripts/demo.mjs) ends with that line, not with commands for its gone proxy', async () => {
    const script = fileURLToPath(new URL('../../../../scripts/demo.mjs', import.meta.url));
    const child = spawn(process.execPath, [script], {
      cwd: dirname(dirname(script)),
      env: { ...process.env, NO_COLOR: '1', PROXY_CLI_DEMO_PROXY_STOPS: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.resume();
    const [code] = await once(child, 'exit');
    expect(code, stdout).toBe(0);
    const last = stdout.trim().split('\n').at(-1) ?? '';
    expect(last).toMatch(
      /^demo done in .*\. The demo proxy has stopped; .*docs\/getting-started\.md/,
    );
  }, 90_000);
});

// Re-read: against a proxy whose --max-tasks, not its queue, refused the demo's submission, the
// demo said it "submits until the queue is full" and never named the limit that refused it.
describe('--demo queue-full before a proxy with a small --max-tasks', () => {
  it("names the limit that refused it in the proxy's words, and claims no full queue", async () => {
    const small = await startStack([
      '--max-concurrent',
      '4',
      '--num-workers',
      '4',
      '--max-queue-size',
      '10',
      '--max-tasks',
      '5',
    ]);
    onTestFinished(() => small.stop());
    const run = await runCli(['demo', 'queue-full', '--url', small.url]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('submits until the proxy refuses one (503 queue_full).');
    expect(run.stdout).toMatch(
      /^\d+ tasks accepted, then the proxy refused one \(503 queue_full, Retry-After: \d+ s\): The proxy holds its most tasks \(--max-tasks 5\) and too few have finished to make room; the task was not created\.$/m,
    );
    expect(run.stdout).not.toContain('queue is full');
    expect(run.stdout).toMatch(/^task \S+ completed/m);
  });
});

describe('--demo before a proxy that cannot reach its target', () => {
  it('exits 5 with the reason, and submits nothing', async () => {
    const down = await startStack();
    try {
      await down.target.close();
      const run = await runCli(['demo', 'single', '--url', down.url]);
      expect(run.code).toBe(5);
      // With the proxy's reason, as the store's is given.
      expect(run.stderr).toMatch(/cannot reach its target http:\/\/\S+ \(.*refused/i);
      expect(run.stderr).toMatch(/hint: the demos need the demo target behind the proxy/);
      const stats = (await (await fetch(`${down.url}/stats`)).json()) as {
        data: { tasks: { total: number } };
      };
      expect(stats.data.tasks.total).toBe(0);
    } finally {
      await down.stop();
    }
  });
});

// Hostile pass: run as the card runs it, against a proxy in front of the user's own service,
// every demo task failed (a 404 from that service), yet the tour told its story ("12 tasks, done
// in 83 ms: 5 at a time") and exited 0, after sending the service some 330 requests.
describe('--demo before a proxy whose target is not the demo target', () => {
  it('exits 5 after one probe, naming what the target answered, and submits nothing more', async () => {
    const heard: string[] = [];
    const other = createServer((request, response) => {
      heard.push(`${request.method} ${request.url}`);
      response.writeHead(404, { 'content-type': 'text/html' });
      response.end('<h1>Not Found</h1>');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const { port } = other.address() as AddressInfo;
    const proxy = await spawnProxyServer({
      args: ['--target-host', '127.0.0.1', '--target-port', String(port), '--store', 'memory'],
    });
    onTestFinished(async () => {
      await proxy.stop();
      other.closeAllConnections();
      await new Promise<void>((resolve) => other.close(() => resolve()));
    });
    const run = await runCli(['demo', 'batch', '--url', proxy.url]);
    expect(run.code).toBe(5);
    expect(run.stderr).toBe(
      `error: the target behind the proxy at ${proxy.url} is not the demo target: it answered 404 to GET /api/function1?probe=proxy-cli-demo\n` +
        'hint: the demos need slow-target behind the proxy: npm run demo starts both, or see docs/getting-started.md\n',
    );
    expect(run.stdout).toBe('');
    const stats = (await (await fetch(`${proxy.url}/stats`)).json()) as {
      data: { tasks: { total: number } };
    };
    expect(stats.data.tasks.total).toBe(1);
    // A GET: the service may be someone's, where a POST could change something.
    expect(heard.filter((request) => request.includes(' /api/'))).toEqual([
      'GET /api/function1?probe=proxy-cli-demo',
    ]);
    const json = await runCli(['demo', '--json', '--url', proxy.url]);
    expect(jsonOf(json)).toMatchObject({
      success: false,
      error: { code: 'not_demo_target', exit_code: 5 },
    });
  });
});

// Last in the file: the run it stops leaves tasks on the shared proxy.
describe('--demo --timeout', () => {
  it('is one deadline for the whole run, not a fresh one for each wait: exit 124', async () => {
    // Every wait of the demos takes under 8 s; all of them take about 15.
    const started = performance.now();
    const run = await runCli(['--demo', 'all', '--timeout', '8', '--json', '--url', stack.url]);
    const tookMs = performance.now() - started;
    expect(run.code).toBe(124);
    expect(jsonOf(run)).toMatchObject({
      success: false,
      error: {
        code: 'timeout',
        exit_code: 124,
        message: expect.stringMatching(/^gave up after 8\.0 s/),
      },
    });
    expect(tookMs).toBeLessThan(12_000);
  }, 30_000);

  it('bounds the reads between waits too: a /stats that never answers', async () => {
    const health = { success: true, status: 'ok', target: { url: 'http://t', reachable: true } };
    const stuck = createServer((request, response) => {
      if (request.url !== '/health') return; // no answer
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(health));
    });
    await new Promise<void>((resolve) => stuck.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => {
      stuck.closeAllConnections();
      return new Promise<void>((resolve) => stuck.close(() => resolve()));
    });
    const url = `http://127.0.0.1:${(stuck.address() as AddressInfo).port}`;
    const run = await runCli(['demo', 'batch', '--timeout', '1', '--url', url]);
    expect(run.code).toBe(124);
    expect(run.stderr).toMatch(/^error: gave up after 1\.0 s/m);
  }, 15_000);
});
