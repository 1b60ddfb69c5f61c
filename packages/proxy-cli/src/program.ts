import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { CliError } from './cli-error.js';
import { EXIT_CODE_MEANINGS, EXIT_CODES } from './exit-codes.js';
import type { CliOptions } from './options.js';
import { DEFAULT_CLEANUP_HOURS, DEFAULT_URL, DEMO_NAMES } from './options.js';
import { type RawOptions, toCliOptions } from './to-cli-options.js';

/** Where commander writes help and version text; the tests capture it. */
export interface ProgramIo {
  writeOut(text: string): void;
}

export type ParseResult =
  | { kind: 'run'; options: CliOptions }
  /** `--help` or `--version` was printed: nothing else to do, exit 0. */
  | { kind: 'printed' };

const EXAMPLES = `
Examples:
  proxy-cli --demo                every demo (same as --demo all)
  proxy-cli --demo queue-full     or: ${DEMO_NAMES.join(', ')}
  proxy-cli --stats
  proxy-cli --submit api/function1 --data '{"param1":"value1"}' --wait
  proxy-cli --submit api/report --method GET
  proxy-cli --task-id <id> --wait --timeout 600
  proxy-cli --list-tasks --status failed --limit 50
  proxy-cli --cleanup 48          remove finished tasks older than 48 h
  proxy-cli --health --json | jq .target.reachable
  PROXY_URL=http://proxy:8080 proxy-cli --stats

Environment:
  PROXY_URL        proxy base URL when --url is not given
  PROXY_API_KEY    API key when --api-key is not given
  NO_COLOR         any non-empty value turns colours off

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

export function buildProgram(io: ProgramIo): Command {
  return new Command('proxy-cli')
    .description(
      'Terminal client for proxy-server: submit slow HTTP jobs, wait for them, list tasks, read stats.\nExactly one action per call.',
    )
    .usage('<action> [options]')
    .version(version(), '-v, --version', 'print the version')
    .helpOption('-h, --help', 'print this help')
    .optionsGroup('Actions (choose exactly one):')
    .option('--demo [name]', 'guided demo against the proxy: all (default) or one')
    .option('--stats', 'show queue, worker and task counts')
    .option('--task-id <id>', 'show one task')
    .option('--list-tasks', 'list tasks, newest first')
    .option('--submit <path>', 'submit a request for the target, e.g. api/function1')
    .option('--cleanup [hours]', `drop finished tasks older than this (${DEFAULT_CLEANUP_HOURS} h)`)
    .option('--health', 'check the proxy and whether it reaches its target')
    .optionsGroup('Waiting (--task-id, --submit; the last two also --demo):')
    .option('--wait', 'wait until the task is completed or failed')
    .option('--poll-interval <seconds>', 'poll at this fixed interval (default: adaptive)')
    .option('--timeout <seconds>', 'stop waiting after this long (exit 124)')
    .optionsGroup('With --submit:')
    .option('--data <json|@file>', 'request body: JSON text, @file (JSON) or @- (stdin)')
    .option('--method <method>', 'HTTP method (default POST)')
    .optionsGroup('With --list-tasks:')
    .option('--status <status>', 'pending, processing, completed or failed')
    .option('--limit <n>', "tasks per page (default: the proxy's)")
    .option('--offset <n>', 'skip this many tasks first')
    .optionsGroup('Connection and output:')
    .option('--url <url>', `proxy base URL (default ${DEFAULT_URL})`)
    .option('--api-key <key>', 'sent as Authorization: Bearer <key>')
    .option('--json', 'one JSON document on stdout, nothing decorative')
    .option('--no-color', 'no colours (also off with NO_COLOR or off a terminal)')
    .addHelpText('after', EXAMPLES)
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => io.writeOut(text),
      // Usage errors reach the user through CliError and bin.ts, like every other error.
      writeErr: () => {},
      outputError: () => {},
    })
    .exitOverride();
}

/** argv (without `node` and the script) and the environment → checked, typed options. */
export function parseArgv(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: ProgramIo,
): ParseResult {
  const program = buildProgram(io);
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.exitCode === 0) return { kind: 'printed' };
    throw new CliError(
      EXIT_CODES.usage,
      error.message.replace(/^error: /, ''),
      'see proxy-cli --help',
      {
        cause: error,
      },
    );
  }
  return { kind: 'run', options: toCliOptions(program.opts<RawOptions>(), env) };
}
