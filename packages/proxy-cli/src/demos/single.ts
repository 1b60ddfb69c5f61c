import type { Task } from 'proxy-client/wire';
import { waitWithProgress } from '../commands/wait.js';
import type { CommandContext } from '../context.js';
import { formatDuration } from '../render/duration.js';
import { paintStatus } from '../render/status.js';
import { renderTask } from '../render/task.js';
import { heading, say } from './narrate.js';

export interface SingleReport {
  name: 'single';
  task: Task;
}

/** One task: submit, get an id at once, wait with adaptive polling, read the result. */
export async function singleDemo(ctx: CommandContext): Promise<SingleReport> {
  const { client, output, signal } = ctx;
  const body = { param1: 'value1', delay_ms: 1500 };
  heading(ctx, 'single: one task, from submit to result', [
    'The proxy answers at once with a task id (202) and calls the target in the background.',
    `POST /api/function1 ${JSON.stringify(body)}   (the target takes 1.5 s)`,
  ]);
  const submittedAt = performance.now();
  const taskId = await client.submitTask('api/function1', body, { signal });
  say(
    ctx,
    `task id ${taskId} after ${formatDuration(performance.now() - submittedAt)}; nothing held open`,
  );
  const task = await waitWithProgress(ctx, taskId);
  say(
    ctx,
    `${paintStatus(task.status, output.color)} after ${formatDuration(performance.now() - submittedAt)}:`,
  );
  say(ctx, renderTask(task, output.look));
  return { name: 'single', task };
}
