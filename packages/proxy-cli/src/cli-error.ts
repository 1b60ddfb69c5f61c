import type { ExitCode } from './exit-codes.js';

const CODE_NAMES: Readonly<Record<ExitCode, string>> = {
  0: 'ok',
  1: 'task_failed',
  2: 'usage',
  3: 'proxy_unreachable',
  4: 'task_not_found',
  5: 'proxy_error',
  124: 'timeout',
  130: 'interrupted',
};

/**
 * The one error a command throws to end the run: `bin.ts` prints `message` (and `hint`) on
 * stderr and exits with `exitCode`. `code` names the outcome in `--json` error documents and
 * defaults to the exit code's name.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly code: string;

  constructor(
    readonly exitCode: ExitCode,
    message: string,
    readonly hint?: string,
    options?: { code?: string; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = options?.code ?? CODE_NAMES[exitCode];
  }
}

export function isCliError(value: unknown): value is CliError {
  return value instanceof Error && value.name === 'CliError';
}
