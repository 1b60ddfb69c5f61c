import { setTimeout as sleep } from 'node:timers/promises';
import type { ProxyClient } from 'proxy-client';
import type { Task } from 'proxy-client/wire';

const INTERVAL_MS = 1000;

/**
 * While a task is pending, reads it once a second for the display only: the SDK's wait is one
 * held read that answers when the task finishes, so without this a spinner would show `pending`
 * until the end and never the move to `processing` or the queue position going down. Stops at
 * the first read that is not pending, or on `stop()`; read errors are left to the wait itself.
 */
export function watchWhilePending(
  client: ProxyClient,
  taskId: string,
  onTask: (task: Task) => void,
): { stop(): void } {
  const controller = new AbortController();
  const { signal } = controller;
  const loop = async () => {
    for (;;) {
      await sleep(INTERVAL_MS, undefined, { signal });
      const task = await client.getTask(taskId, { signal }).catch(() => undefined);
      if (signal.aborted) return;
      if (!task) continue;
      onTask(task);
      if (task.status !== 'pending') return;
    }
  };
  loop().catch(() => {
    // Only the abort of stop() ends the loop with an error; nothing to report.
  });
  return { stop: () => controller.abort() };
}
