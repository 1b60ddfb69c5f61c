import type { Command } from 'commander';
import { CliError } from './cli-error.js';
import { EXIT_CODES } from './exit-codes.js';

/**
 * A flag whose value is missing takes the next flag as its value, as commander reads it: from a
 * script whose `$ID` was empty, `--task-id $ID --wait` said `'--wait' is not a task id` and
 * exited 4, a task that is gone, and `--url $URL --stats` said no action was given. A value that
 * is one of the CLI's own flags is never meant as one: the flag it was given to is named, exit 2,
 * as proxy-server does for its own flags.
 */
export function flagTakenAsValue(argv: readonly string[], program: Command): CliError | null {
  const options = [program, ...program.commands].flatMap((command) => command.options);
  const names = (option: (typeof options)[number]) =>
    [option.long, option.short].filter((name) => name !== undefined);
  const valued = new Set(options.filter((option) => option.required).flatMap(names));
  const flags = new Set([...options.flatMap(names), '--help', '-h']);
  for (const [at, word] of argv.entries()) {
    if (word === '--') return null;
    const next = argv[at + 1]?.split('=')[0];
    if (!valued.has(word) || next === undefined || !flags.has(next)) continue;
    return new CliError(
      EXIT_CODES.usage,
      `${word} needs a value, and the next word is the flag ${next}: give it one`,
      `${word} <value>; in a script, an empty variable leaves it none: quote it ("$ID"), and check it is set`,
    );
  }
  return null;
}
