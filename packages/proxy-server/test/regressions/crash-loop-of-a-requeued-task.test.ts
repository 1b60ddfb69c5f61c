import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataBody, SubmitBody, Task } from 'proxy-client/wire';
import { startSlowTarget } from 'slow-target';
import { spawnProxyServer, waitFor } from 'test-support';
import { describe, expect, it, onTestFinished } from 'vitest';

const getJson = async <T>(url: string): Promise<T> =>
  ((await (await fetch(url)).json()) as DataBody<T>).data;

// Review (docs/operations.md, "What a crash costs"): with --requeue-interrupted, a task whose
// call itself brings the proxy down ran again at every start, and the proxy crashed in a loop.
describe('a task whose call the proxy dies in, again and again, with --requeue-interrupted', () => {
  it('goes back to the queue --max-requeues times, then ends interrupted', {
    timeout: 60_000,
  }, async () => {
    const target = await startSlowTarget();
    onTestFinished(() => target.close());
    const dataDir = await mkdtemp(join(tmpdir(), 'proxy-max-requeues-'));
    onTestFinished(() => rm(dataDir, { recursive: true, force: true }));
    const start = async () => {
      const proxy = await spawnProxyServer({
        args: [
          ...['--target-url', target.url, '--data-dir', dataDir, '--log-level', 'warn'],
          ...['--requeue-interrupted', '--max-requeues', '1'],
        ],
      });
      onTestFinished(async () => {
        await proxy.stop('SIGKILL');
      });
      return proxy;
    };
    const taskOn = (url: string, id: string) => getJson<Task>(`${url}/task/${id}`);
    // The process dies mid-call, as one run out of memory by the answer would.
    const dieInCall = async (
      proxy: { url: string; stop: (s: NodeJS.Signals) => Promise<unknown> },
      id: string,
      attempt: number,
    ) => {
      await waitFor(
        async () => {
          const task = await taskOn(proxy.url, id);
          return task.status === 'processing' && task.attempts === attempt;
        },
        { timeoutMs: 15_000, what: `call ${attempt} to start` },
      );
      await proxy.stop('SIGKILL');
    };

    const first = await start();
    const submitted = await fetch(`${first.url}/api/text?text=never&delay_ms=60000`, {
      method: 'POST',
    });
    const id = ((await submitted.json()) as SubmitBody).task_id;
    await dieInCall(first, id, 1);

    const second = await start();
    expect(second.output()).toContain('left processing by the last run: 1 requeued, 0 interrupted');
    await dieInCall(second, id, 2);

    const third = await start();
    expect(third.output()).toContain('left processing by the last run: 0 requeued, 1 interrupted');
    // On stderr, which may come in after the listening line on stdout.
    await waitFor(
      () => third.output().includes(`proxy-server: warning: task ${id} cut off again`),
      {
        what: 'a warning naming the task',
      },
    );
    expect(third.output()).toContain(
      `proxy-server: warning: task ${id} cut off again after going back to the queue as often as --max-requeues 1 allows, ended interrupted: a call that brings the proxy down ends this way; look at its request before anyone submits it again\n`,
    );
    const ended = await taskOn(third.url, id);
    expect(ended).toMatchObject({ status: 'failed', attempts: 2, error: { code: 'interrupted' } });
    expect(ended.error?.message).toContain('--max-requeues');
    expect(ended.attempt_history.map((call) => call.error_code)).toEqual([
      'interrupted',
      'interrupted',
    ]);
  });
});
