import type { Task } from 'proxy-client/wire';
import { waitWithProgress } from '../commands/wait.js';
import type { CommandContext } from '../context.js';
import { formatDuration } from '../render/duration.js';
import { paintStatus } from '../render/status.js';
import { heading, say } from './narrate.js';

const SECONDS = 4;

export interface LongReport {
  name: 'long';
  task: Task;
}

/** A task that runs for seconds: nothing times it out, and it is flagged once past the threshold. */
export async function longDemo(ctx: CommandContext): Promise<LongReport> {
  const { client, output, signal } = ctx;
  heading(ctx, `long: a task that takes ${SECONDS} s`, [
    'No timeout cuts a long upstream call short unless one was configured. Once a task has been',
    'processing longer than --long-task-threshold (default 300 s) it is marked is_long_task.',
    'Ctrl-C while waiting leaves the task running and prints the command to wait again.',
  ]);
  const taskId = await client.submitTask(`api/long?seconds=${SECONDS}`, undefined, {
    method: 'GET',
    signal,
  });
  say(ctx, `GET /api/long?seconds=${SECONDS} → task ${taskId}`);
  const task = await waitWithProgress(ctx, taskId);
  say(
    ctx,
    `${paintStatus(task.status, output.color)} after ${formatDuration(task.duration_ms ?? 0)} of processing, ` +
      (task.is_long_task
        ? `is_long_task: ${output.color.magenta('true')} (past the long-task threshold).`
        : 'is_long_task: false (proxy-server --long-task-threshold 2 makes it flip).'),
  );
  return { name: 'long', task };
}
