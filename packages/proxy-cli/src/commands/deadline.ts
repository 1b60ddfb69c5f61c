import type { CommandContext } from '../context.js';

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
