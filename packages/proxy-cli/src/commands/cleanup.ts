import type { CommandContext } from '../context.js';
import { withinTimeout } from './bounded.js';

/** `--cleanup [hours]`: removes finished tasks older than that; pending and running ones stay. */
export async function cleanup(ctx: CommandContext, action: { maxAgeHours: number }): Promise<void> {
  const { removed } = await withinTimeout(
    ctx,
    (signal) => ctx.client.cleanupTasks({ maxAgeMs: action.maxAgeHours * 3_600_000, signal }),
    'the cleanup may have run all the same: running it again is harmless',
  );
  ctx.output.document({ removed, max_age_hours: action.maxAgeHours });
  ctx.output.data(
    `removed ${removed} finished task${removed === 1 ? '' : 's'} older than ${action.maxAgeHours} hour${action.maxAgeHours === 1 ? '' : 's'}`,
  );
}
