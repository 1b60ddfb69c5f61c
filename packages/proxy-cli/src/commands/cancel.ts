import type { CommandContext } from '../context.js';
import { renderTask } from '../render/task.js';
import { withinTimeout } from './bounded.js';

/**
 * `--cancel <id>`: a pending task leaves the queue, a running one has its call to the target
 * aborted; prints the task, now cancelled. A task cancelled already is no error; one that
 * finished otherwise exits 6 (to-cli-error.ts). Within `--timeout`; cut off by it or by Ctrl-C,
 * the cancel may have reached the proxy all the same: sending it again is safe.
 */
export async function cancelTask(ctx: CommandContext, action: { taskId: string }): Promise<void> {
  const task = await withinTimeout(
    ctx,
    (signal) => ctx.client.cancelTask(action.taskId, { signal }),
    {
      doing: `cancelling task ${action.taskId}`,
      made: 'the cancel may have reached the proxy all the same',
      safe: 'sending it again is safe',
      again: ['--cancel', action.taskId],
      details: { task_id: action.taskId },
    },
  );
  ctx.output.document(task);
  ctx.output.data(renderTask(task, ctx.output.look));
  ctx.output.note(`task ${task.task_id} is ${task.status}`);
}
