import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataBody, SubmitBody, Task } from 'proxy-client/wire';
import { startSlowTarget } from 'slow-target';
import { type ProxyProcess, spawnProxyServer, waitFor } from 'test-support';
import { describe, expect, it, onTestFinished } from 'vitest';
import { jsonLogLines } from '../helper.js';

interface LogLine {
  msg: string;
  taskId?: string;
}

const linesOf = (proxy: ProxyProcess, msg: string, taskId: string) =>
  jsonLogLines<LogLine>(proxy.output()).filter(
    (line) => line.msg === msg && line.taskId === taskId,
  );

// Found by an operator (docs/configuration.md, "Logging"): the tasks a start after a crash put
// back in the queue were counted on the start line only, so grepping the log for a task's id lost
// it there; a SIGTERM's requeue logs each.
describe('the tasks a start after kill -9 requeues or ends, with --requeue-interrupted', () => {
  it('each get one task back in the queue line, then, past --max-requeues, one task failed', {
    timeout: 60_000,
  }, async () => {
    const target = await startSlowTarget();
    onTestFinished(() => target.close());
    const dataDir = await mkdtemp(join(tmpdir(), 'proxy-requeue-log-'));
    onTestFinished(() => rm(dataDir, { recursive: true, force: true }));
    const start = async () => {
      const proxy = await spawnProxyServer({
        args: [
          ...['--target-url', target.url, '--data-dir', dataDir],
          ...['--log-level', 'info', '--log-format', 'json'],
          ...['--requeue-interrupted', '--max-requeues', '1'],
        ],
      });
      onTestFinished(async () => {
        await proxy.stop('SIGKILL');
      });
      return proxy;
    };
    const taskOn = async (proxy: ProxyProcess, id: string) =>
      ((await (await fetch(`${proxy.url}/task/${id}`)).json()) as DataBody<Task>).data;
    const dieInCalls = async (proxy: ProxyProcess, ids: string[], attempt: number) => {
      await waitFor(
        async () => {
          const tasks = await Promise.all(ids.map((id) => taskOn(proxy, id)));
          return tasks.every((task) => task.status === 'processing' && task.attempts === attempt);
        },
        { timeoutMs: 15_000, what: `call ${attempt} of each task to start` },
      );
      await proxy.stop('SIGKILL');
    };

    const first = await start();
    const ids: string[] = [];
    for (const text of ['one', 'two']) {
      const submitted = await fetch(`${first.url}/api/text?text=${text}&delay_ms=60000`, {
        method: 'POST',
      });
      ids.push(((await submitted.json()) as SubmitBody).task_id);
    }
    await dieInCalls(first, ids, 1);

    const second = await start();
    // An operator: the start line said 0 pending for the two it had just put back in line.
    expect(second.output()).toContain(
      '2 held, 2 pending; left processing by the last run: 2 requeued, 0 interrupted',
    );
    await waitFor(() => ids.every((id) => linesOf(second, 'task back in the queue', id).length), {
      what: 'a task back in the queue line for each task the start requeued',
    });
    for (const id of ids) {
      // The fields of a requeue at SIGTERM: the task's id, nothing of its request.
      expect(linesOf(second, 'task back in the queue', id)).toEqual([
        expect.objectContaining({ level: 30, taskId: id }),
      ]);
    }
    await dieInCalls(second, ids, 2);

    const third = await start();
    expect(third.output()).toContain(
      '2 held, 0 pending; left processing by the last run: 0 requeued, 2 interrupted',
    );
    await waitFor(() => ids.every((id) => linesOf(third, 'task failed', id).length), {
      what: 'a task failed line for each task the start ended',
    });
    for (const id of ids) {
      expect(linesOf(third, 'task back in the queue', id)).toEqual([]);
      expect(linesOf(third, 'task failed', id)).toEqual([
        expect.objectContaining({ level: 40, error: 'interrupted' }),
      ]);
    }
  });
});
