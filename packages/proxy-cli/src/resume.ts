import type { CliOptions } from './options.js';

/**
 * A proxy-cli command line to paste: the same proxy (`--url` unless it was the default, so the
 * line works in a shell without PROXY_URL too) and a placeholder where a key given by flag goes,
 * then `args`, each quoted for the shell. The API key is never echoed back.
 */
export function cliCommand(options: CliOptions, args: readonly string[]): string {
  const parts = ['proxy-cli'];
  if (options.urlSource !== 'default') parts.push('--url', shellQuote(options.url));
  if (options.apiKeySource === 'flag') parts.push('--api-key', '<key>');
  parts.push(...args.map(shellQuote));
  return parts.join(' ');
}

/** The exact command that takes up a wait again: same proxy, same task, same output mode. */
export function resumeCommand(options: CliOptions, taskId: string): string {
  return cliCommand(options, ['--task-id', taskId, '--wait', ...sameWaitArgs(options)]);
}

/**
 * `--poll-interval` and `--json` as given, for a command that runs the call again: a script that
 * reads the JSON document reads the one that command prints too.
 */
export function sameWaitArgs(options: CliOptions): string[] {
  const args: string[] = [];
  if (options.pollIntervalMs !== undefined) {
    args.push('--poll-interval', String(options.pollIntervalMs / 1000));
  }
  if (options.json) args.push('--json');
  return args;
}

/** `value` as one shell word: as it is when that is safe, else in single quotes. */
export function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}
