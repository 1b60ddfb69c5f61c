import type { ProxyClient } from 'proxy-client';
import type { CliOptions } from './options.js';
import type { Output } from './output.js';

/** What every command gets: the SDK client, the output, the run's options and its abort signal. */
export interface CommandContext {
  client: ProxyClient;
  output: Output;
  options: CliOptions;
  /** Aborted on Ctrl-C; every SDK call takes it so a wait stops at once. */
  signal: AbortSignal;
  /** Reads all of stdin, for `--data @-`; rejects once `signal` is aborted. */
  readStdin(): Promise<Uint8Array>;
  /** Whether stdin is a terminal: `--data @-` then waits for a person to type the body. */
  stdinIsTerminal: boolean;
}
