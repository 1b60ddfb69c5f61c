import { CliError } from '../cli-error.js';
import type { CommandContext } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { formatDuration } from '../render/duration.js';
import { deadlineFor } from './deadline.js';

/**
 * One call that does not wait for a task (`--stats`, `--list-tasks`, `--health`, `--cleanup`,
 * `--cancel`, `--task-id` without `--wait`), within `--timeout` when given: without it a proxy
 * that accepts the connection and never answers holds the CLI for the SDK's own timeout and its
 * retries. A call that changes something (`--cancel`, `--cleanup`) may have been made all the
 * same: `unanswered` says so, and what to do.
 */
export async function withinTimeout<T>(
  ctx: CommandContext,
  call: (signal: AbortSignal) => Promise<T>,
  unanswered?: string,
): Promise<T> {
  const { timeoutMs, url } = ctx.options;
  const deadline = deadlineFor(ctx.signal, timeoutMs);
  try {
    return await call(deadline.signal);
  } catch (error) {
    if (!deadline.expired(error)) throw error;
    throw new CliError(
      EXIT_CODES.timeout,
      `no answer from the proxy at ${url} within ${formatDuration(timeoutMs ?? 0)} (--timeout)`,
      `the proxy took the connection but did not answer: check that --url (or PROXY_URL) is the proxy and that it is not stuck, or give it a longer --timeout${unanswered === undefined ? '' : `; ${unanswered}`}`,
      { cause: error },
    );
  }
}
