import type { CommandContext } from '../context.js';
import { withinTimeout } from './bounded.js';

/** `--cleanup [hours]`: removes finished tasks older than that; pending and running ones stay. */
export async function cleanup(ctx: CommandContext, action: { maxAgeHours: number }): Promise<void> {
  const { removed } = await withinTimeout(
    ctx,
    (signal) => ctx.client.cleanupTasks({ maxAgeMs: action.maxAgeHours * 3_600_000, signal }),
    {
      doing: `removing finished tasks older than ${hours(action.maxAgeHours)}`,
      made: 'the cleanup may have run all the same',
      // It removes only finished tasks past the age: a second run finds those the first removed gone.
      safe: 'running it again is harmless',
      again: ['--cleanup', String(action.maxAgeHours)],
    },
  );
  ctx.output.document({ removed, max_age_hours: action.maxAgeHours });
  ctx.output.data(
    `removed ${removed} finished task${removed === 1 ? '' : 's'} older than ${hours(action.maxAgeHours)}`,
  );
}

function hours(count: number): string {
  return `${count} hour${count === 1 ? '' : 's'}`;
}
