import { isTerminalStatus, type Task } from 'proxy-client/wire';
import { CliError } from '../cli-error.js';
import type { CommandContext } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { endedWithout, renderTask } from '../render/task.js';
import { withinTimeout } from './bounded.js';
import { waitWithProgress } from './wait.js';

/** `--task-id <id> [--wait]`: one task, optionally after it finishes; exit 1 if it failed. */
export async function showTask(ctx: CommandContext, action: { taskId: string; wait: boolean }) {
  const task = action.wait
    ? await waitWithProgress(ctx, action.taskId)
    : await withinTimeout(ctx, (signal) => ctx.client.getTask(action.taskId, { signal }));
  printTask(ctx, task);
}

/**
 * Prints a task (document or table) and turns one that ended without completing (failed, or
 * another end such as cancelled) into exit code 1.
 */
export function printTask(ctx: CommandContext, task: Task): void {
  ctx.output.document(task);
  ctx.output.data(renderTask(task, ctx.output.look));
  if (isTerminalStatus(task.status) && task.status !== 'completed') {
    throw new CliError(EXIT_CODES.taskFailed, endedWithout(task), undefined, {
      details: { task_id: task.task_id, status: task.status },
    });
  }
}
