import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'libsql';
import type { DataBody, Stats, SubmitBody, Task } from 'proxy-client/wire';
import { binaryPattern, type SlowTarget, startSlowTarget } from 'slow-target';
import { type ProxyProcess, spawnProxyServer, waitFor } from 'test-support';
import { describe, expect, it, onTestFinished } from 'vitest';

const TASKS = 2_000;
const DELAY_MS = 40;

/** Task `n`'s request: text or binary answers, each URL unique so the target's log tells them apart. */
function pathOf(n: number): string {
  return n % 2 === 0
    ? `/api/text?text=task-${n}&delay_ms=${DELAY_MS}`
    : `/api/binary?bytes=${bytesOf(n)}&n=${n}&delay_ms=${DELAY_MS}`;
}

const bytesOf = (n: number) => ((n * 37) % 3000) + 1;

/** What the target answers task `n`, as the wire result body carries it. */
function expectedBody(n: number): string {
  return n % 2 === 0 ? `task-${n}` : binaryPattern(bytesOf(n)).toString('base64');
}

async function start(target: SlowTarget, dataDir: string, extra: string[] = []) {
  const proxy = await spawnProxyServer({
    args: [
      '--target-url',
      target.url,
      '--data-dir',
      dataDir,
      '--max-concurrent',
      '20',
      '--num-workers',
      '20',
      '--max-queue-size',
      String(TASKS),
      '--log-level',
      'warn',
      ...extra,
    ],
  });
  onTestFinished(async () => {
    await proxy.stop('SIGKILL');
  });
  return proxy;
}

async function submitAll(proxy: ProxyProcess): Promise<string[]> {
  const ids = new Array<string>(TASKS);
  let next = 0;
  const submitter = async () => {
    for (let n = next++; n < TASKS; n = next++) {
      const response = await fetch(proxy.url + pathOf(n), { method: 'POST' });
      expect(response.status).toBe(202);
      ids[n] = ((await response.json()) as SubmitBody).task_id;
    }
  };
  await Promise.all(Array.from({ length: 32 }, submitter));
  return ids;
}

const getJson = async <T>(url: string): Promise<T> =>
  ((await (await fetch(url)).json()) as DataBody<T>).data;

async function settled(proxy: ProxyProcess): Promise<Stats> {
  return waitFor(
    async () => {
      const stats = await getJson<Stats>(`${proxy.url}/stats`);
      return stats.tasks.pending === 0 && stats.tasks.processing === 0 ? stats : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 100, what: 'every task to finish' },
  );
}

/** The value of the one sample of `/metrics` whose line starts with `prefix`. */
async function metricOf(proxy: ProxyProcess, prefix: string): Promise<number> {
  const text = await (await fetch(`${proxy.url}/metrics`)).text();
  const line = text.split('\n').find((each) => each.startsWith(prefix));
  return Number(line?.split(' ').at(-1));
}

/** How many times the target received each task's request. */
function runsPerTask(target: SlowTarget): Map<number, number> {
  const runs = new Map<number, number>();
  for (const { url } of target.requests()) {
    const n = Number(/text=task-(\d+)|[?&]n=(\d+)/.exec(url)?.slice(1).find(Boolean));
    runs.set(n, (runs.get(n) ?? 0) + 1);
  }
  return runs;
}

async function freshDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'proxy-durable-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function startTarget(): Promise<SlowTarget> {
  const target = await startSlowTarget({ recordRequests: true });
  onTestFinished(() => target.close());
  return target;
}

/**
 * Each run's own waits allow up to two minutes (some tasks done, a shutdown's grace, then all of
 * them after the restart): on a loaded machine the project's 30 s cut one off within them.
 */
const RUN_MS = 180_000;

/** Submits every task, kills the proxy with SIGKILL mid-run and restarts it on the same data. */
async function crashMidRun(extra: string[] = []) {
  const target = await startTarget();
  const dataDir = await freshDataDir();
  const first = await start(target, dataDir, extra);
  const ids = await submitAll(first);
  await waitFor(async () => (await getJson<Stats>(`${first.url}/stats`)).tasks.completed >= 300, {
    timeoutMs: 30_000,
    what: 'a few hundred tasks to complete',
  });
  const before = await getJson<{ tasks: { task_id: string }[] }>(
    `${first.url}/tasks?status=completed&limit=50`,
  );
  const kept = await Promise.all(
    before.tasks.map((task) => getJson<Task>(`${first.url}/task/${task.task_id}`)),
  );
  expect(await first.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
  const inFlightAtCrash = target.stats().inFlight;

  const second = await start(target, dataDir, extra);
  const recovered = /left processing by the last run: (\d+) requeued, (\d+) interrupted/.exec(
    second.output(),
  );
  await settled(second);
  const tasks = await Promise.all(ids.map((id) => getJson<Task>(`${second.url}/task/${id}`)));
  return {
    target,
    ids,
    tasks,
    kept,
    inFlightAtCrash,
    requeued: Number(recovered?.[1]),
    interrupted: Number(recovered?.[2]),
    second,
  };
}

describe('durability on the SQLite store, with real processes', () => {
  it(
    'accounts for every accepted task after kill -9: results intact, none lost, none run twice',
    async () => {
      const run = await crashMidRun();
      expect(run.tasks.every((task) => task !== undefined)).toBe(true);

      const interrupted = run.tasks.filter((task) => task.status === 'failed');
      for (const task of interrupted) expect(task.error?.code).toBe('interrupted');
      expect(interrupted.length).toBe(run.interrupted);
      expect(run.interrupted).toBeGreaterThan(0);
      expect(run.requeued).toBe(0);
      // Counted on the start line and named in the log, which the crashed run's left unfinished.
      const failedLines = run.second
        .output()
        .split('\n')
        .filter((line) => line.includes('"msg":"task failed"'));
      for (const task of interrupted) {
        expect(failedLines.filter((line) => line.includes(`"taskId":"${task.task_id}"`))).toEqual([
          expect.stringContaining('"error":"interrupted"'),
        ]);
      }
      // The crash pass: those the start ended were counted nowhere.
      expect((await getJson<Stats>(`${run.second.url}/stats`)).totals.failed).toBe(run.interrupted);
      expect(await metricOf(run.second, 'proxy_upstream_errors_total{code="interrupted"')).toBe(
        run.interrupted,
      );

      for (const [n, task] of run.tasks.entries()) {
        if (task.status !== 'completed') continue;
        expect(task.result?.body).toBe(expectedBody(n));
      }
      expect(run.tasks.filter((task) => task.status === 'completed').length).toBe(
        TASKS - interrupted.length,
      );
      for (const before of run.kept) {
        const after = run.tasks.find((task) => task.task_id === before.task_id);
        expect(after?.result).toEqual(before.result);
        expect(after?.completed_at).toBe(before.completed_at);
      }

      const runs = runsPerTask(run.target);
      for (const [n, task] of run.tasks.entries()) {
        if (task.status === 'completed') expect(runs.get(n)).toBe(1);
        else expect(runs.get(n) ?? 0).toBeLessThanOrEqual(1);
      }
    },
    RUN_MS,
  );

  it(
    'runs the calls cut off again with --requeue-interrupted, each at most twice',
    async () => {
      const run = await crashMidRun(['--requeue-interrupted']);
      expect(run.interrupted).toBe(0);
      expect(run.requeued).toBeGreaterThan(0);
      expect(run.tasks.every((task) => task.status === 'completed')).toBe(true);
      for (const [n, task] of run.tasks.entries()) expect(task.result?.body).toBe(expectedBody(n));
      const cutOff = run.tasks.filter((task) =>
        task.attempt_history.some((attempt) => attempt.error_code === 'interrupted'),
      );
      expect(cutOff).toHaveLength(run.requeued);
      expect(await metricOf(run.second, 'proxy_tasks_requeued_total{')).toBe(run.requeued);
      for (const task of cutOff) {
        expect(task.attempt_history.map((attempt) => [attempt.attempt, attempt.outcome])).toEqual([
          [1, 'failed'],
          [2, 'completed'],
        ]);
      }

      const runs = runsPerTask(run.target);
      const twice = [...runs.values()].filter((count) => count === 2).length;
      expect(Math.max(...runs.values())).toBeLessThanOrEqual(2);
      expect(twice).toBeLessThanOrEqual(run.requeued);
      expect(runs.size).toBe(TASKS);
    },
    RUN_MS,
  );

  it(
    'SIGTERM with calls that end within the grace: nothing interrupted, nothing lost',
    async () => {
      const target = await startTarget();
      const dataDir = await freshDataDir();
      const first = await start(target, dataDir, ['--shutdown-grace', '30']);
      const ids = await submitAll(first);
      await waitFor(
        async () => (await getJson<Stats>(`${first.url}/stats`)).tasks.completed >= 100,
        {
          timeoutMs: 30_000,
          what: 'a hundred tasks to complete',
        },
      );
      expect(await first.stop('SIGTERM')).toEqual({ code: 0, signal: null });
      expect(target.stats().inFlight).toBe(0);
      // A stopped proxy's tasks.db stands alone: copied without its -wal file, it has every task.
      const copyDir = await freshDataDir();
      await copyFile(join(dataDir, 'tasks.db'), join(copyDir, 'tasks.db'));
      const copy = new Database(join(copyDir, 'tasks.db'), { readonly: true });
      expect(copy.prepare('SELECT count(*) AS n FROM tasks').get()).toMatchObject({ n: TASKS });
      copy.close();

      const second = await start(target, dataDir);
      expect(second.output()).toContain('0 requeued, 0 interrupted');
      const stats = await settled(second);
      expect(stats.tasks).toMatchObject({ completed: TASKS, failed: 0, total: TASKS });
      const tasks = await Promise.all(ids.map((id) => getJson<Task>(`${second.url}/task/${id}`)));
      for (const [n, task] of tasks.entries()) expect(task.result?.body).toBe(expectedBody(n));
      expect([...runsPerTask(target).values()].every((count) => count === 1)).toBe(true);
    },
    RUN_MS,
  );
});
