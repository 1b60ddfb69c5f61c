import type { Command } from 'commander';
import { flagGivenAsValue } from 'proxy-client/wire';
import { CliError } from './cli-error.js';
import { EXIT_CODES } from './exit-codes.js';

/**
 * A flag given the next flag as its value (see `flagGivenAsValue`): from a script whose `$ID` was
 * empty, `--task-id $ID --wait` exited 4, a task that is gone, and `--url $URL --stats` said no
 * action was given. Named, exit 2, as proxy-server names its own.
 */
export function flagTakenAsValue(argv: readonly string[], program: Command): CliError | null {
  const options = [program, ...program.commands].flatMap((command) => command.options);
  const names = (option: (typeof options)[number]) =>
    [option.long, option.short].filter((name) => name !== undefined);
  const valued = new Set(options.filter((option) => option.required).flatMap(names));
  const flags = new Set([...options.flatMap(names), '--help', '-h']);
  const given = flagGivenAsValue(argv, valued, flags);
  if (given === undefined) return null;
  const { flag, next } = given;
  return new CliError(
    EXIT_CODES.usage,
    `${flag} needs a value, and the next word is the flag ${next}: give it one`,
    `${flag} <value>; in a script, an empty variable leaves it none: quote it ("$ID"), and check it is set`,
  );
}
