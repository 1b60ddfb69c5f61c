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

/** The end of `--timeout`, for every request of a call. */
export interface Deadline {
  /** Ctrl-C's signal and the deadline's in one: what the call's requests take. */
  signal: AbortSignal;
  /** Whether `error` is the deadline's doing, not Ctrl-C's or anything else's. */
  expired(error: unknown): boolean;
}

/** A deadline `timeoutMs` from now (none when undefined), beside Ctrl-C's `signal`. */
export function deadlineFor(signal: AbortSignal, timeoutMs: number | undefined): Deadline {
  if (timeoutMs === undefined) return { signal, expired: () => false };
  // AbortSignal.timeout takes whole milliseconds only; what is left of --timeout is fractional.
  const timeout = AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs)));
  return {
    signal: AbortSignal.any([signal, timeout]),
    // An aborted request rejects with its signal's reason, which `any` passes through.
    expired: (error) => timeout.aborted && !signal.aborted && error === timeout.reason,
  };
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
