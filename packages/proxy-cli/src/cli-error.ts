import type { ExitCode } from './exit-codes.js';

const CODE_NAMES: Readonly<Record<ExitCode, string>> = {
  0: 'ok',
  1: 'task_failed',
  2: 'usage',
  3: 'proxy_unreachable',
  4: 'task_not_found',
  5: 'proxy_error',
  6: 'task_state',
  74: 'output_failed',
  124: 'timeout',
  // One outcome, whichever signal stopped the run: the exit code tells them apart.
  129: 'interrupted',
  130: 'interrupted',
  143: 'interrupted',
};

/**
 * Fields of a `--json` error document beyond code and message, snake_case like the proxy's own:
 * `task_id` whenever the error is about one task, so scripts never parse it out of the message.
 */
export interface ErrorDetails {
  task_id?: string;
  /** The task's last known status. */
  status?: string;
  /** The command that takes a stopped wait up again. */
  resume_command?: string;
  /** The proxy's `Retry-After`, in seconds, when it gave one. */
  retry_after_s?: number;
  /** The proxy's own error code or HTTP status, when the CLI names the outcome otherwise. */
  proxy_code?: string;
  /** The Idempotency-Key a submission carried: submitting again with it names the same task. */
  idempotency_key?: string;
}

/**
 * The one error a command throws to end the run: `main.ts` prints `message` (and `hint`) on
 * stderr and exits with `exitCode`. `code` names the outcome in `--json` error documents and
 * defaults to the exit code's name; `details` go into that document as fields.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly code: string;
  readonly details: Readonly<ErrorDetails>;
  /**
   * Ends the run with the exit code only: nothing more to say, as when Ctrl-C stops `--watch`,
   * the usual way to end it.
   */
  readonly silent: boolean;

  constructor(
    readonly exitCode: ExitCode,
    message: string,
    readonly hint?: string,
    options?: { code?: string; cause?: unknown; details?: ErrorDetails; silent?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = options?.code ?? CODE_NAMES[exitCode];
    this.details = options?.details ?? {};
    this.silent = options?.silent ?? false;
  }
}

export function isCliError(value: unknown): value is CliError {
  return value instanceof Error && value.name === 'CliError';
}
