import type { CommandContext } from '../context.js';
import { renderStats } from '../render/stats.js';

/** `--stats`: task counts, queue and workers. */
export async function showStats(ctx: CommandContext): Promise<void> {
  const stats = await ctx.client.getStats({ signal: ctx.signal });
  ctx.output.document(stats);
  ctx.output.data(renderStats(stats, ctx.output.look));
}
