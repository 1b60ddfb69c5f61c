import type { CommandContext } from '../context.js';
import { formatDuration } from '../render/duration.js';

/**
 * How long `--wait` lets the proxy hold a submission (or a retry) for its task to finish
 * (`Prefer: wait`): a quick task then costs one round trip. Kept short, since until the answer
 * comes the CLI does not know the task's id to show or to resume with.
 */
export const HOLD_MS = 5000;

/** The hold within `--timeout`, leaving a second for the answer; 0 when there is no room. */
export function holdMs(timeoutMs: number | undefined): number {
  if (timeoutMs === undefined) return HOLD_MS;
  return Math.min(HOLD_MS, Math.max(0, Math.floor((timeoutMs - 1000) / 1000) * 1000));
}

/** What is left of `--timeout` after `startedAt` (from `performance.now()`), if it was given. */
export function remainingMs(ctx: CommandContext, startedAt: number): number | undefined {
  const { timeoutMs } = ctx.options;
  return timeoutMs === undefined
    ? undefined
    : Math.max(1, timeoutMs - (performance.now() - startedAt));
}

/** Runs `call` with a spinner saying `text` and the time it takes so far. */
export async function withSpinner<T>(
  ctx: CommandContext,
  text: string,
  call: () => Promise<T>,
): Promise<T> {
  const startedAt = performance.now();
  const line = () => `${text} · ${formatDuration(performance.now() - startedAt)}`;
  const progress = ctx.output.progress(line());
  const ticker = setInterval(() => progress.update(line()), 100);
  ticker.unref();
  try {
    return await call();
  } finally {
    clearInterval(ticker);
    progress.stop();
  }
}
