import { CliError } from './cli-error.js';
import { EXIT_CODES, STOP_SIGNALS, type StopSignal } from './exit-codes.js';

/** The abort reason `main.ts` gives on Ctrl-C, so an aborted call can be told from other errors. */
export class InterruptedError extends Error {
  override readonly name = 'InterruptedError';

  constructor(readonly signalName: StopSignal) {
    super(`interrupted by ${signalName}`);
  }
}

/**
 * Commands end a stopped run as Ctrl-C's (130) whatever stopped it; SIGTERM and SIGHUP keep the
 * same words and document, with their own exit code, the one a shell gives a run they end.
 */
export function withSignalExitCode(failure: CliError, reason: unknown): CliError {
  if (failure.exitCode !== EXIT_CODES.interrupted || !(reason instanceof InterruptedError)) {
    return failure;
  }
  const exitCode = STOP_SIGNALS[reason.signalName];
  if (exitCode === failure.exitCode) return failure;
  return new CliError(exitCode, failure.message, failure.hint, {
    code: failure.code,
    cause: failure.cause,
    details: failure.details,
    silent: failure.silent,
  });
}
