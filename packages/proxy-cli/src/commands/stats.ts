import type { CommandContext } from '../context.js';
import { renderStats } from '../render/stats.js';
import { withinTimeout } from './bounded.js';
import { watchStats } from './watch.js';

/** `--stats [--watch]`: task counts, queue and workers; with `--watch`, kept current. */
export async function showStats(
  ctx: CommandContext,
  action: { watch?: { refreshMs: number } } = {},
): Promise<void> {
  if (action.watch) return watchStats(ctx, action.watch.refreshMs);
  const stats = await withinTimeout(ctx, (signal) => ctx.client.getStats({ signal }));
  ctx.output.document(stats);
  ctx.output.data(renderStats(stats, ctx.output.look));
}
