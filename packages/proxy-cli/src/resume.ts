import type { CliOptions } from './options.js';

/** npm sets this for what `npx` and `npm exec` run (npm 7 on), and `run-script` under `npm run`. */
export function isRunByNpx(env: Readonly<Record<string, string | undefined>>): boolean {
  return env['npm_command'] === 'exec';
}

/**
 * The words that start the CLI in a line to paste: through npx when npx started this run, as the
 * shell it is pasted into has no `proxy-cli` on its PATH then.
 */
export function cliStart(runByNpx: boolean): string {
  // `--no`: pasted outside the project, npx would otherwise fetch the registry's unrelated
  // package of that name and run it; `--` keeps npx from reading the CLI's flags as its own.
  return runByNpx ? 'npx --no -- proxy-cli' : 'proxy-cli';
}

/**
 * A proxy-cli command line to paste: started as this run was (through npx when npx started it),
 * the same proxy (`--url` unless it was the default, so the line works in a shell without
 * PROXY_URL too) and `"$PROXY_API_KEY"` where a key given by flag goes, then `args`, each quoted
 * for the shell. The API key is never echoed back.
 */
export function cliCommand(options: CliOptions, args: readonly string[]): string {
  const parts = [cliStart(options.runByNpx === true)];
  if (options.urlSource !== 'default') parts.push('--url', shellQuote(options.url));
  // A shell reads `<key>` as input from a file named key: the line would not run. The variable
  // pastes and runs, in every shell, once it holds the key.
  if (options.apiKeySource === 'flag') parts.push('--api-key', '"$PROXY_API_KEY"');
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

/**
 * Characters that cannot go in a command line meant to be pasted: what a terminal acts on or
 * draws as nothing (which `showControls` escapes for display, so a pasted copy would hold the
 * escape, not the character), and tab and newline, which would split the line.
 */
const UNPASTEABLE = /[\p{Cc}\p{Cf}\u2028\u2029]/u;

/**
 * `value` as one shell word: as it is when that is safe, else in single quotes. A value with a
 * character above (a hostile proxy's task id) is written `$'…'` with that character as an
 * escape, which bash, zsh and ksh read back as the character: so the line shows the same on a
 * terminal as piped, and pastes as the value it names.
 */
export function shellQuote(value: string): string {
  if (/^[\w@%+=:,./-]+$/.test(value)) return value;
  if (!UNPASTEABLE.test(value)) return `'${value.replaceAll("'", `'\\''`)}'`;
  return `$'${[...value].map(ansiCEscape).join('')}'`;
}

/** One character inside `$'…'`: backslash and quote escaped, the unpasteable ones as codes. */
function ansiCEscape(char: string): string {
  if (char === '\\' || char === "'") return `\\${char}`;
  if (!UNPASTEABLE.test(char)) return char;
  const code = char.codePointAt(0) ?? 0;
  // `\xNN` past U+007F is a raw byte to bash, not the character: those take `\u`.
  if (code < 0x80) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\U${code.toString(16).padStart(8, '0')}`;
}
