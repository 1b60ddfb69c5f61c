import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import type { DataBody, Stats, SubmitBody, Task } from 'proxy-client/wire';
import { proxyServerBin, spawnProxyServer, waitFor } from 'test-support';
import { describe, expect, it } from 'vitest';
import { OPTIONS } from '../src/index.js';
import { startTarget } from './helper.js';

const runBin = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [proxyServerBin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 10_000,
  });

describe('proxy-server bin', () => {
  it('--help lists every flag and its env twin, and exits 0', () => {
    const result = runBin(['--help']);
    expect(result.status).toBe(0);
    const text = result.stdout.replace(/\s+/g, ' ');
    for (const option of Object.values(OPTIONS)) {
      expect(text).toContain(`--${option.name} ${option.arg}`);
      expect(text).toContain(option.env);
    }
    expect(text).toContain('min(--num-workers, --max-concurrent)');
  });

  it.each([
    [
      ['--target-host', 'h', '--max-concurrent', 'abc'],
      {},
      "proxy-server: --max-concurrent must be a whole number ≥ 1, got 'abc'",
    ],
    [['--target-host', 'h', '--no-such-flag'], {}, "proxy-server: unknown option '--no-such-flag'"],
    [
      ['--target-host', 'h'],
      { PROXY_LISTEN_PORT: '99999' },
      "proxy-server: PROXY_LISTEN_PORT (--listen-port) must be a port from 0 to 65535, got '99999'",
    ],
    [[], {}, 'proxy-server: --target-host is required (or --target-url; env PROXY_TARGET_HOST)'],
  ])('%j exits 2 with one line on stderr and starts nothing', (args, env, line) => {
    const result = runBin(args, env);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`${line}\n`);
    expect(result.stdout).toBe('');
  });

  it('prints the listening line, honours env twins and warns when workers and concurrency differ', async () => {
    const target = await startTarget();
    const proxy = await spawnProxyServer({
      args: ['--num-workers', '3', '--log-level', 'warn'],
      env: { PROXY_TARGET_URL: target.url, PROXY_MAX_CONCURRENT: '2' },
    });
    try {
      expect(proxy.output()).toMatch(
        new RegExp(
          `^proxy-server listening on http://127\\.0\\.0\\.1:\\d+ \\(target ${target.url.replaceAll('.', '\\.')}\\)$`,
          'm',
        ),
      );
      expect(proxy.output()).toContain('at most 2 upstream calls will be in flight');
      const stats = ((await (await fetch(`${proxy.url}/stats`)).json()) as DataBody<Stats>).data;
      expect(stats).toMatchObject({
        max_concurrent: 2,
        num_workers: 3,
        effective_concurrency: 2,
        target: target.url,
      });
    } finally {
      await proxy.stop();
    }
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s: in-flight calls get the grace, the rest end interrupted, exit code 0',
    async (signal) => {
      const target = await startTarget();
      const proxy = await spawnProxyServer({
        args: ['--target-url', target.url, '--shutdown-grace', '1', '--log-level', 'warn'],
      });
      const submit = async (path: string) =>
        ((await (await fetch(proxy.url + path, { method: 'POST' })).json()) as SubmitBody).task_id;
      const quick = await submit('/api/function1?delay_ms=300');
      const slow = await submit('/api/long?seconds=30');
      const read = (id: string) =>
        fetch(`${proxy.url}/task/${id}?wait=30`).then(
          async (r) => ((await r.json()) as DataBody<Task>).data,
        );
      while (target.stats().inFlight < 2) await new Promise((resolve) => setTimeout(resolve, 10));
      const [quickTask, slowTask, exit] = await Promise.all([
        read(quick),
        read(slow),
        proxy.stop(signal),
      ]);
      expect(quickTask.status).toBe('completed');
      expect(slowTask).toMatchObject({ status: 'failed', error: { code: 'interrupted' } });
      expect(exit).toEqual({ code: 0, signal: null });
    },
  );
});

/** Niceness and name of each thread of process `pid`, from /proc (Linux). */
function threadsOf(pid: number): { id: number; name: string; nice: number }[] {
  return readdirSync(`/proc/${pid}/task`).map((id) => {
    const stat = readFileSync(`/proc/${pid}/task/${id}/stat`, 'utf8');
    // Fields after the parenthesised name; niceness is field 19 of stat.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const name = readFileSync(`/proc/${pid}/task/${id}/comm`, 'utf8').trim();
    return { id: Number(id), name, nice: Number(fields[16]) };
  });
}

describe.runIf(process.platform === 'linux')('--intake-nice (Linux)', () => {
  it('runs every thread but the forwarding one at the given niceness', async () => {
    const target = await startTarget();
    const proxy = await spawnProxyServer({
      args: ['--target-url', target.url, '--intake-nice', '7'],
    });
    try {
      const pid = proxy.child.pid ?? 0;
      await waitFor(() => threadsOf(pid).some((thread) => thread.nice === 7), {
        what: 'threads reniced',
      });
      const threads = threadsOf(pid);
      expect(threads.find((thread) => thread.id === pid)?.nice).toBe(7);
      const fullPriority = threads.filter((thread) => thread.nice === getPriority());
      expect(fullPriority).toHaveLength(1);
      // Node 22+ names worker threads; Node 20 calls every thread "node".
      expect(['node', 'proxy-server fo']).toContain(fullPriority[0]?.name);
      expect(proxy.output()).toContain('every thread but the forwarding one yields the CPU');
    } finally {
      await proxy.stop();
      await target.close();
    }
  });

  it('leaves every thread alone with 0', async () => {
    const target = await startTarget();
    const proxy = await spawnProxyServer({
      args: ['--target-url', target.url, '--intake-nice', '0'],
      env: { PROXY_LOG_LEVEL: 'info' },
    });
    try {
      const pid = proxy.child.pid ?? 0;
      await fetch(`${proxy.url}/health`);
      expect(threadsOf(pid).every((thread) => thread.nice === getPriority())).toBe(true);
      expect(proxy.output()).not.toContain('yields the CPU');
    } finally {
      await proxy.stop();
      await target.close();
    }
  });
});
