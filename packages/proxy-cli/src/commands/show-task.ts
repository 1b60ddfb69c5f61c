import type { Task } from 'proxy-client/wire';
import { CliError } from '../cli-error.js';
import type { CommandContext } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { failureReason, renderTask } from '../render/task.js';
import { waitWithProgress } from './wait.js';

/** `--task-id <id> [--wait]`: one task, optionally after it finishes; exit 1 if it failed. */
export async function showTask(ctx: CommandContext, action: { taskId: string; wait: boolean }) {
  const task = action.wait
    ? await waitWithProgress(ctx, action.taskId)
    : await ctx.client.getTask(action.taskId, { signal: ctx.signal });
  printTask(ctx, task);
}

/** Prints a task (document or table) and turns a failed one into exit code 1. */
export function printTask(ctx: CommandContext, task: Task): void {
  ctx.output.document(task);
  ctx.output.data(renderTask(task, ctx.output.color));
  if (task.status === 'failed') {
    throw new CliError(
      EXIT_CODES.taskFailed,
      `task ${task.task_id} failed: ${failureReason(task)}`,
    );
  }
}
