import { isProxyUnreachableError } from 'proxy-client';
import { CliError, type ErrorDetails } from '../cli-error.js';
import type { CommandContext } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { formatDuration } from '../render/duration.js';
import { cliCommand } from '../resume.js';
import { noAnswerWithinSdkLimit, TOOK_THE_CONNECTION } from '../to-cli-error.js';
import { deadlineFor } from './deadline.js';

/**
 * A call that changes something (`--cancel`, `--cleanup`), which may have been made though no
 * answer came: what may have happened, why doing it again is safe, and the command that does.
 */
export interface Unanswered {
  /** What the call was doing, after "interrupted while". */
  doing: string;
  /** What may have happened all the same. */
  made: string;
  /** Why doing it again is safe, before the command that does. */
  safe: string;
  /** The action's arguments, to do it again. */
  again: readonly string[];
  details?: ErrorDetails;
}

/**
 * One call that does not wait for a task (`--stats`, `--list-tasks`, `--health`, `--cleanup`,
 * `--cancel`, `--task-id` without `--wait`), within `--timeout` when given: without it a proxy
 * that accepts the connection and never answers holds the CLI for the SDK's own timeout and its
 * retries. A call that changes something may have been made all the same, when `--timeout` or the
 * SDK's own limit runs out or Ctrl-C stops it: `unanswered` says so, and what to do.
 */
export async function withinTimeout<T>(
  ctx: CommandContext,
  call: (signal: AbortSignal) => Promise<T>,
  unanswered?: Unanswered,
): Promise<T> {
  const { timeoutMs, url } = ctx.options;
  const deadline = deadlineFor(ctx.signal, timeoutMs);
  try {
    return await call(deadline.signal);
  } catch (error) {
    const interrupted = ctx.signal.aborted;
    const options = { cause: error, ...(unanswered?.details && { details: unanswered.details }) };
    if (unanswered && !interrupted && sdkTimeout(error)) {
      // Exit 3, as the SDK's own timeout on any other call (to-cli-error.ts): not --timeout's.
      throw new CliError(
        EXIT_CODES.unreachable,
        noAnswerWithinSdkLimit(url),
        `${TOOK_THE_CONNECTION}; ${unanswered.made}, and ${doAgain(ctx, unanswered)}`,
        options,
      );
    }
    // A read stopped by Ctrl-C changed nothing: plain "interrupted" (to-cli-error.ts) says it all.
    if (interrupted ? unanswered === undefined : !deadline.expired(error)) throw error;
    if (interrupted && unanswered) {
      throw new CliError(
        EXIT_CODES.interrupted,
        `interrupted while ${unanswered.doing}; ${unanswered.made}`,
        doAgain(ctx, unanswered),
        options,
      );
    }
    throw new CliError(
      EXIT_CODES.timeout,
      `no answer from the proxy at ${url} within ${formatDuration(timeoutMs ?? 0)} (--timeout)`,
      `${TOOK_THE_CONNECTION}, or give it a longer --timeout${unanswered ? `; ${unanswered.made}, and ${doAgain(ctx, unanswered)}` : ''}`,
      options,
    );
  }
}

/**
 * The SDK's own limit for a request ran out: the proxy took the connection, so the call may
 * have arrived.
 */
function sdkTimeout(error: unknown): boolean {
  return isProxyUnreachableError(error) && error.code === 'response_timeout';
}

/** "sending it again is safe: <the command>", the command printing what this run would. */
function doAgain(ctx: CommandContext, unanswered: Unanswered): string {
  const json = ctx.options.json ? ['--json'] : [];
  return `${unanswered.safe}: ${cliCommand(ctx.options, [...unanswered.again, ...json])}`;
}
