import { addAbortSignal } from 'node:stream';
import { ProxyClient } from 'proxy-client';
import { MAX_BODY_LIMIT_BYTES } from 'proxy-client/wire';
import { type CliError, isCliError } from './cli-error.js';
import { EXIT_CODES, STOP_SIGNALS, type StopSignal } from './exit-codes.js';
import { InterruptedError, withSignalExitCode } from './interrupted.js';
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
// SIGTERM (a service manager, `timeout`) and SIGHUP stop a run as Ctrl-C does: a --json script
// still gets its one document, and a wait prints how to resume it. SIGHUP only with neither
// output on a terminal: its SIGHUP means the terminal is gone, and Node aborts (exit 134) at a
// write to it, which no handler catches; left to the signal, the run ends 129 as before.
const onSignal = (signal: StopSignal) => {
  interrupts++;
  // A second one (Ctrl-C twice) means "now": do not wait for a request to notice the abort.
  if (interrupts > 1) {
    output.restore();
    process.exit(STOP_SIGNALS[signal]);
  }
  controller.abort(new InterruptedError(signal));
};
const onTerminal = process.stdout.isTTY === true || process.stderr.isTTY === true;
const stopSignals = (Object.keys(STOP_SIGNALS) as StopSignal[]).filter(
  (signal) => !(signal === 'SIGHUP' && onTerminal),
);
for (const signal of stopSignals) process.on(signal, onSignal);
// `proxy-cli --list-tasks | head` closes stdout early: not an error worth a stack trace, and the
// end of the run, as for any Unix tool: `watch | head -1` would otherwise watch on, unread.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  output.restore();
  if (error.code === 'EPIPE') process.exit(0);
  // A full disk: stderr says so in a line; not even --json's error document can reach stdout.
  const why = error.message.replace(/, write$/, '');
  output.error(`${output.errColor.red('error:')} cannot write to stdout (${why})`);
  process.exit(EXIT_CODES.outputFailed);
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
  const ended = withSignalExitCode(failure, controller.signal.reason);
  report(ended);
  process.exitCode = ended.exitCode;
} finally {
  for (const signal of stopSignals) process.off(signal, onSignal);
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
