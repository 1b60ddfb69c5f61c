#!/usr/bin/env node
import { addAbortSignal } from 'node:stream';
import { ProxyClient } from 'proxy-client';
import { MAX_BODY_LIMIT_BYTES } from 'proxy-client/wire';
import { type CliError, isCliError } from './cli-error.js';
import { EXIT_CODES } from './exit-codes.js';
import { InterruptedError } from './interrupted.js';
import { misspeltEnvWarnings } from './misspelt-env.js';
import type { CliOptions } from './options.js';
import { Output } from './output.js';
import { parseArgv, typedFlags } from './program.js';
import { readAtMost } from './read-at-most.js';
import { runAction } from './run.js';
import { toCliError } from './to-cli-error.js';

// The one place that prints errors and sets the exit code; commands only throw CliError.
const argv = process.argv.slice(2);
const streams = { stdout: process.stdout, stderr: process.stderr, env: process.env };
// Until argv is parsed, usage errors still respect --json and --no-color as typed.
let output = new Output(streams, {
  json: typedFlags(argv).includes('--json'),
  color: !typedFlags(argv).includes('--no-color'),
});
let cliOptions: CliOptions | undefined;

const controller = new AbortController();
let interrupts = 0;
const onSigint = () => {
  interrupts++;
  // A second Ctrl-C means "now": do not wait for a request to notice the abort.
  if (interrupts > 1) {
    output.restore();
    process.exit(EXIT_CODES.interrupted);
  }
  controller.abort(new InterruptedError('SIGINT'));
};
process.on('SIGINT', onSigint);
// `proxy-cli --list-tasks | head` closes stdout early: not an error worth a stack trace, and the
// end of the run, as for any Unix tool: `watch | head -1` would otherwise watch on, unread.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  output.restore();
  process.exit(0);
});

try {
  const parsed = parseArgv(argv, process.env, { writeOut: (s) => process.stdout.write(s) });
  if (parsed.kind === 'run') {
    const { options } = parsed;
    cliOptions = options;
    output = new Output(streams, { json: options.json, color: options.color });
    // On stderr with --json too, as errors are: a script's stdout stays one document.
    for (const warning of misspeltEnvWarnings(process.env)) output.error(`warning: ${warning}`);
    const client = new ProxyClient({
      baseUrl: options.url,
      ...(options.apiKey !== undefined && { apiKey: options.apiKey }),
    });
    await runAction(options.action, {
      client,
      output,
      options,
      signal: controller.signal,
      // Ctrl-C must end the read: no request has started yet for the abort to reach.
      readStdin: () =>
        readAtMost(addAbortSignal(controller.signal, process.stdin), MAX_BODY_LIMIT_BYTES),
      stdinIsTerminal: process.stdin.isTTY === true,
    });
  }
} catch (error) {
  const failure = isCliError(error)
    ? error
    : toCliError(error, {
        url: cliOptions?.url ?? '(no URL)',
        signal: controller.signal,
        ...(cliOptions && { options: cliOptions }),
      });
  report(failure);
  process.exitCode = failure.exitCode;
} finally {
  process.off('SIGINT', onSigint);
}

function report(failure: CliError): void {
  if (failure.silent) return;
  const { errColor } = output;
  output.error(`${errColor.red('error:')} ${output.errText(failure.message)}`);
  if (failure.hint) output.error(`${errColor.dim('hint:')} ${output.errText(failure.hint)}`);
  if (output.json && !output.wroteDocument) {
    output.document({
      success: false,
      error: {
        code: failure.code,
        exit_code: failure.exitCode,
        message: failure.message,
        ...(failure.hint && { hint: failure.hint }),
        ...failure.details,
      },
    });
  }
}
