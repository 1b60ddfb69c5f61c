import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { PRIORITIES } from 'proxy-client';
import { closestName, flagsMeant, MAX_CLEANUP_AGE_HOURS, TASK_STATUSES } from 'proxy-client/wire';
import { CliError, isCliError } from './cli-error.js';
import { COMPLETION_SHELLS, completionScript, isCompletionShell } from './completion.js';
import { EXIT_CODE_MEANINGS, EXIT_CODES } from './exit-codes.js';
import { flagTakenAsValue } from './flag-taken-as-value.js';
import type { CliOptions } from './options.js';
import { DEFAULT_CLEANUP_HOURS, DEFAULT_URL, DEMO_NAMES } from './options.js';
import { cliStart, isRunByNpx } from './resume.js';
import { ACTION_FLAGS, goesWith, type RawOptions, toCliOptions } from './to-cli-options.js';

/** Where commander writes help and version text; the tests capture it. */
export interface ProgramIo {
  writeOut(text: string): void;
}

export type ParseResult =
  | { kind: 'run'; options: CliOptions }
  /** `--help`, `--version` or a completion script was printed: nothing else to do, exit 0. */
  | { kind: 'printed' };

/** The help's closing text; its examples start the CLI as this run was started (`cli`). */
const examples = (cli: string) => `
Examples:
  ${cli} demo                  every demo (same as --demo all)
  ${cli} demo queue-full       or: ${DEMO_NAMES.join(', ')}
  ${cli} stats
  ${cli} submit api/function1 --data '{"param1":"value1"}' --wait
  ${cli} --submit api/report --method GET --idempotency-key report-2026
  ${cli} wait <id> --timeout 600
  ${cli} cancel <id>           stop a pending or running task
  ${cli} retry <id> --wait     run a finished task again, as a new task
  ${cli} watch                 a live table of tasks (Ctrl-C to stop)
  ${cli} stats --watch         the stats, read again every 2 s (--poll-interval)
  ${cli} list --status failed --limit 50
  ${cli} cleanup 48            remove finished tasks older than 48 h
  ${cli} health --json | jq .target.reachable
  PROXY_URL=http://proxy:8080 ${cli} --stats
  source <(${cli} completion bash)

Each command is the flag of the same name: proxy-cli stats is proxy-cli --stats,
proxy-cli wait <id> is proxy-cli --task-id <id> --wait.

Output: tables on a terminal; piped or redirected, plain tab-separated rows.

Environment:
  PROXY_URL        proxy base URL when --url is not given
  PROXY_API_KEY    API key when --api-key is not given
  NO_COLOR         any non-empty value turns colours off
  FORCE_COLOR      1 turns colours on off a terminal; NO_COLOR wins over it

Exit codes:
${Object.entries(EXIT_CODE_MEANINGS)
  .map(([code, meaning]) => `  ${code.padEnd(5)}${meaning}`)
  .join('\n')}
`;

function version(): string {
  // Read at run time: the same relative path works from src/ (tests) and dist/ (the bin).
  const pkg: unknown = JSON.parse(
    readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
  );
  return typeof pkg === 'object' && pkg !== null && 'version' in pkg
    ? String(pkg.version)
    : '0.0.0';
}

/** What a command sets: the flags it stands for, or the completion it prints. */
type Picked = { raw: Partial<RawOptions>; command: string } | { completion: string };

/**
 * The commands, each an alias of the action flag of the same name, so the contract's flags and
 * the subcommand style people type out of habit (`proxy-cli stats`) both work.
 */
const TASK_ID_ARGUMENT = 'a task id, as submit and list print it';

const COMMANDS: ReadonlyArray<{
  name: string;
  aliases?: readonly string[];
  argument?: string;
  /** What the argument takes: `help <command>` lists it, else only the top-level help told. */
  argumentDescription?: string;
  description: string;
  raw: (value: string | undefined) => Partial<RawOptions>;
}> = [
  { name: 'stats', description: 'same as --stats', raw: () => ({ stats: true }) },
  { name: 'health', description: 'same as --health', raw: () => ({ health: true }) },
  {
    name: 'list',
    aliases: ['list-tasks'],
    description: 'same as --list-tasks',
    raw: () => ({ listTasks: true }),
  },
  {
    name: 'task',
    argument: '<id>',
    argumentDescription: TASK_ID_ARGUMENT,
    description: 'same as --task-id <id>',
    raw: (id) => ({ taskId: id ?? '' }),
  },
  {
    name: 'wait',
    argument: '<id>',
    argumentDescription: TASK_ID_ARGUMENT,
    description: 'same as --task-id <id> --wait',
    raw: (id) => ({ taskId: id ?? '', wait: true }),
  },
  {
    name: 'submit',
    argument: '<path>',
    argumentDescription:
      'a path under the proxy, e.g. api/function1 (a path without api/ gets it: report is api/report)',
    description: 'same as --submit <path>',
    raw: (path) => ({ submit: path ?? '' }),
  },
  {
    name: 'cancel',
    argument: '<id>',
    argumentDescription: TASK_ID_ARGUMENT,
    description: 'same as --cancel <id>',
    raw: (id) => ({ cancel: id ?? '' }),
  },
  {
    name: 'retry',
    argument: '<id>',
    argumentDescription: TASK_ID_ARGUMENT,
    description: 'same as --retry <id>',
    raw: (id) => ({ retry: id ?? '' }),
  },
  { name: 'watch', description: 'same as --watch', raw: () => ({ watch: true }) },
  {
    name: 'cleanup',
    argument: '[hours]',
    argumentDescription: `remove finished tasks older than this: ${DEFAULT_CLEANUP_HOURS} by default, 0 for every finished task, at most ${MAX_CLEANUP_AGE_HOURS}`,
    description: 'same as --cleanup [hours]',
    raw: (hours) => ({ cleanup: hours ?? true }),
  },
  {
    name: 'demo',
    argument: '[name]',
    argumentDescription: `all (the default), ${DEMO_NAMES.join(', ')}`,
    description: 'same as --demo [name]',
    raw: (name) => ({ demo: name ?? true }),
  },
];

/**
 * `cli` starts the CLI in the commands its hints name (`proxy-cli`, or through npx): known from
 * the environment, before any option is parsed.
 */
function buildProgram(
  io: ProgramIo,
  pick: (picked: Picked) => void,
  { json, cli }: { json: boolean; cli: string },
): Command {
  const program = new Command('proxy-cli')
    .description(
      'Terminal client for proxy-server: submit slow HTTP jobs, wait for them, cancel, retry or watch them, list tasks, read stats. Exactly one action per call: a command, or its flag.',
    )
    .usage('[command] [options]')
    // -V, as proxy-server has it: one version flag for both bins.
    .version(
      json ? JSON.stringify({ version: version() }, null, 2) : version(),
      '-V, --version',
      'print the version',
    )
    .helpOption('-h, --help', 'print this help')
    .optionsGroup('Actions (choose exactly one, or a command):')
    .option('--demo [name]', 'guided demo against the proxy: all (default) or one')
    .option('--stats', 'show queue, worker and task counts')
    .option('--task-id <id>', 'show one task')
    .option('--list-tasks', 'list tasks, newest first')
    .option('--submit <path>', 'submit a request for the target, e.g. api/function1')
    .option('--cleanup [hours]', `drop finished tasks older than this (${DEFAULT_CLEANUP_HOURS} h)`)
    .option('--health', 'check the proxy: whether it reaches its target and can use its task store')
    .option('--cancel <id>', 'cancel a pending or running task')
    .option('--retry <id>', 'run a finished task again, as a new task')
    .option('--watch', 'a live table of tasks; with --stats, live stats')
    .optionsGroup(
      'Waiting (with --task-id, --submit or --retry; --poll-interval and --timeout also with --demo; --timeout also without --wait, and with --stats, --list-tasks, --health, --cleanup and --cancel):',
    )
    .option('--wait', 'wait until the task is finished (completed, failed…)')
    .option(
      '--poll-interval <seconds>',
      'poll at this fixed interval (default: adaptive; 2 with --stats --watch)',
    )
    .option(
      '--timeout <seconds>',
      'stop waiting after this long (exit 124), for the task or for the answer',
    )
    .optionsGroup('With --submit:')
    .option('--data <json|@file>', 'request body: JSON text, @file (JSON) or @- (stdin)')
    .option('--method <method>', 'HTTP method (default POST)')
    .option('--idempotency-key <key>', 'the same key again names the same task')
    .option('--priority <level>', `${PRIORITIES.join(', ')}: high is served first`)
    .option('--callback-url <url>', 'the proxy POSTs the finished task there')
    .option(
      '--max-attempts <n>',
      "most calls to the target when it retries (under the proxy's cap)",
    )
    .option('--max-queue-time <seconds>', 'ends expired if not started within this long')
    .option('--upstream-timeout <seconds>', 'longest one call to the target may take')
    .option(
      '-H, --header <header>',
      "a header for the target, 'Name: value' (repeat for more; X-Proxy-Tenant names a tenant)",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .optionsGroup('With --list-tasks (--status also with --watch):')
    .option('--status <status>', `${TASK_STATUSES.join(', ')} (--watch: a,b)`)
    .option('--limit <n>', "tasks per page (default: the proxy's)")
    .option('--offset <n>', 'skip this many tasks first')
    .optionsGroup('Connection and output:')
    .option('--url <url>', `proxy base URL (default ${DEFAULT_URL})`)
    .option('--api-key <key>', 'sent as Authorization: Bearer <key>')
    .option('--json', 'one JSON document on stdout, nothing decorative')
    .option('--no-color', 'no colours (also off with NO_COLOR or off a terminal)')
    .addHelpText('after', examples(cli))
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeOut: (text) => io.writeOut(text),
      // Usage errors reach the user through CliError and main.ts, like every other error.
      writeErr: () => {},
      outputError: () => {},
    })
    .exitOverride()
    .helpCommand('help [command]', 'print the help of a command')
    // A word that is no command lands here, to be answered with the commands there are.
    .argument('[command]')
    .action((word: string | undefined) => {
      if (word !== undefined) throw unknownCommand(word, cli);
    });

  refuseRepeats(program, cli);
  // Commands inherit the settings above (output, exitOverride, suggestions), so they come last.
  for (const spec of COMMANDS) {
    const command = program.command(spec.name).description(spec.description);
    for (const alias of spec.aliases ?? []) command.alias(alias);
    if (spec.argument) command.argument(spec.argument, spec.argumentDescription);
    const shown = goesWith(spec.raw('x'));
    command.configureHelp({
      showGlobalOptions: true,
      // They are the flags that go with this command, not global ones.
      styleTitle: (title) => (title === 'Global Options:' ? 'Flags it takes:' : title),
      visibleGlobalOptions: (cmd) =>
        (cmd.parent?.options ?? []).filter(
          (option) =>
            !option.hidden && option.long !== '--version' && shown(option.long ?? option.flags),
        ),
    });
    command.action((value: unknown) => {
      pick({ raw: spec.raw(typeof value === 'string' ? value : undefined), command: spec.name });
    });
  }
  program
    .command('completion')
    .argument('<shell>', COMPLETION_SHELLS.join(', '))
    .description(`print the shell completion script for ${COMPLETION_SHELLS.join(', ')}`)
    .configureHelp({ showGlobalOptions: false })
    .action((shell: string) => pick({ completion: shell }));
  return program;
}

/**
 * commander keeps the last of a flag given twice, so `--cancel A --cancel B` would cancel B alone
 * and exit 0: an action's flag names what is acted on, once. A switch (`--stats --stats`) is
 * refused too, so the rule has no exceptions to learn. Settings (`--url`, `--status`...) keep
 * the last, as flags usually do, so an alias with `--url` can be pointed elsewhere.
 */
function refuseRepeats(program: Command, cli: string): void {
  const actions = new Set<string>(Object.values(ACTION_FLAGS));
  for (const option of program.options) {
    if (!actions.has(option.long ?? '')) continue;
    let given = false;
    program.on(`option:${option.name()}`, () => {
      if (given) {
        throw new CliError(
          EXIT_CODES.usage,
          `${option.long} is given twice: give it once`,
          `one ${option.long} per call: run ${cli} again for another`,
        );
      }
      given = true;
    });
  }
}

/** Every command name people can type, for suggestions and the completion scripts. */
function commandNames(program: Command): string[] {
  return program.commands.flatMap((command) => [command.name(), ...command.aliases()]);
}

function unknownCommand(word: string, cli: string): CliError {
  const names = [...COMMANDS.flatMap((c) => [c.name, ...(c.aliases ?? [])]), 'completion', 'help'];
  const meant = closestName(word, names);
  return new CliError(
    EXIT_CODES.usage,
    `unknown command '${word}'${meant ? `. Did you mean ${meant}?` : ''}`,
    `commands: ${COMMANDS.map((c) => c.name).join(', ')}, completion; see ${cli} --help`,
  );
}

/** The words of argv that may be flags: after `--` every word is an argument. */
export function typedFlags(argv: readonly string[]): readonly string[] {
  const end = argv.indexOf('--');
  return end === -1 ? argv : argv.slice(0, end);
}

/** argv (without `node` and the script) and the environment → checked, typed options. */
export function parseArgv(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: ProgramIo,
): ParseResult {
  let picked: Picked | undefined;
  const cli = cliStart(isRunByNpx(env));
  // commander prints the version as soon as it meets -V, before any flag after it is parsed.
  const program = buildProgram(
    io,
    (p) => {
      picked = p;
    },
    { json: typedFlags(argv).includes('--json'), cli },
  );
  // Commander answers `help <no such command>` with a bare "(outputHelp)": name the word instead.
  const [first, asked] = argv;
  if (first === 'help' && asked !== undefined && !asked.startsWith('-')) {
    if (!commandNames(program).includes(asked) && asked !== 'help') {
      throw unknownCommand(asked, cli);
    }
    // Commander prints the help and drops the rest, which may be a command typed in full. The
    // output flags go with any command, help included.
    const extra = argv.slice(2).find((word) => word !== '--json' && word !== '--no-color');
    if (extra !== undefined) {
      throw new CliError(
        EXIT_CODES.usage,
        `help takes one command, got '${asked}' and then '${extra}'`,
        `see ${cli} help ${asked}`,
      );
    }
    if (asked === 'help') return parseArgv(['--help'], env, io);
  }
  const flagAsValue = flagTakenAsValue(argv, program);
  if (flagAsValue) throw flagAsValue;
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.exitCode === 0) return { kind: 'printed' };
    const command = program.commands.find(
      (c) => c.name() === first || c.aliases().includes(first ?? ''),
    );
    throw usageError(error, program, cli, command);
  }
  const flags = program.opts<RawOptions>();
  if (picked && 'completion' in picked) {
    printCompletion(program, picked.completion, flags, io, cli);
    return { kind: 'printed' };
  }
  try {
    return { kind: 'run', options: toCliOptions(merge(flags, picked, cli), env) };
  } catch (error) {
    throw withHelpHint(error, cli);
  }
}

/** A usage error that names no better hint points at --help, started as this run was. */
function withHelpHint(error: unknown, cli: string): unknown {
  if (!isCliError(error) || error.exitCode !== EXIT_CODES.usage || error.hint !== undefined) {
    return error;
  }
  const { code, cause, details } = error;
  return new CliError(error.exitCode, error.message, `see ${cli} --help`, { code, cause, details });
}

/** A mistake under a command points at that command's help, which lists only its flags. */
function usageError(
  error: CommanderError,
  program: Command,
  cli: string,
  command?: Command,
): CliError {
  const message =
    (error.code === 'commander.unknownOption' && valuedSwitch(error.message, program)) ||
    unknownFlagMessage(error, command ?? program);
  // proxy-cli once had -v; proxy-server has always had -V. Say so instead of only "unknown".
  const hint =
    error.code === 'commander.unknownOption' && /'-v'/.test(message)
      ? 'the version flag is -V or --version, as for proxy-server'
      : `see ${cli} ${command === undefined ? '--help' : `help ${command.name()}`}`;
  return new CliError(EXIT_CODES.usage, message, hint, { cause: error });
}

/**
 * Commander suggests a flag by its spelling (`--list`: --limit); a flag written short of its
 * full name is better answered with the flags that have its words (`--list-tasks`), among those
 * its help lists. Either way, one line.
 */
function unknownFlagMessage(error: CommanderError, command: Command): string {
  const message = error.message.replace(/^error: /, '').replace(/\n\(/, ' (');
  const [unknown, flag] = /^unknown option '([^']+)'/.exec(message) ?? [];
  if (!flag) return message;
  const help = command.createHelp();
  const listed = [...help.visibleOptions(command), ...help.visibleGlobalOptions(command)];
  const meant = flagsMeant(
    flag,
    listed.flatMap((option) => option.long ?? []),
  );
  return meant ? `${unknown} (Did you mean ${meant}?)` : message;
}

/**
 * A switch written with a value (`--json=true`, `--wait=false`): commander calls it an unknown
 * option, though the option exists. Say what it takes.
 */
function valuedSwitch(commanderMessage: string, program: Command): string | null {
  const given = /unknown option '(--[^'=]+)=([^']*)'/.exec(commanderMessage);
  if (!given) return null;
  const options = [program, ...program.commands].flatMap((each) => each.options);
  const isSwitch = options.some(
    (option) => option.long === given[1] && !option.required && !option.optional,
  );
  return isSwitch
    ? `${given[1]} is a switch and takes no value, got '${given[1]}=${given[2]}': give the flag alone, or leave it out`
    : null;
}

/** The command's flags over the typed ones; the same action given both ways is one too many. */
function merge(flags: RawOptions, picked: Picked | undefined, cli: string): RawOptions {
  if (!picked || 'completion' in picked) return flags;
  for (const key of Object.keys(picked.raw) as Array<keyof RawOptions>) {
    if (key !== 'wait' && flags[key] !== undefined) {
      throw new CliError(
        EXIT_CODES.usage,
        `choose one action per call, got the command ${picked.command} and --${kebab(key)}`,
        `see ${cli} --help`,
      );
    }
  }
  return { ...flags, ...picked.raw };
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

function printCompletion(
  program: Command,
  shell: string,
  flags: RawOptions,
  io: ProgramIo,
  cli: string,
): void {
  if (!isCompletionShell(shell)) {
    throw new CliError(
      EXIT_CODES.usage,
      `completion takes ${COMPLETION_SHELLS.join(', ')}; got '${shell}'`,
      `e.g. source <(${cli} completion bash)`,
    );
  }
  const extra = Object.entries(flags).filter(
    ([key, value]) => key !== 'color' && value !== undefined,
  );
  if (extra.length > 0) {
    throw new CliError(
      EXIT_CODES.usage,
      `completion takes no other flags, got --${kebab(extra[0]?.[0] ?? '')}`,
      `e.g. source <(${cli} completion bash)`,
    );
  }
  io.writeOut(completionScript(shell, program));
}
