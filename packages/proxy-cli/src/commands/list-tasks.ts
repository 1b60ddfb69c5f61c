import type { TaskStatus } from 'proxy-client/wire';
import type { CommandContext } from '../context.js';
import { describePage, renderTaskTable } from '../render/task-list.js';
import { withinTimeout } from './bounded.js';

/** `--list-tasks [--status s] [--limit n] [--offset n]`: one page of tasks, newest first. */
export async function listTasks(
  ctx: CommandContext,
  action: { status?: TaskStatus; limit?: number; offset?: number },
): Promise<void> {
  const list = await withinTimeout(ctx, (signal) => ctx.client.listTasks({ ...action, signal }));
  ctx.output.document(list);
  if (list.tasks.length > 0)
    ctx.output.data(renderTaskTable(list.tasks, ctx.output.look, Date.now()));
  ctx.output.note(describePage(list));
}
