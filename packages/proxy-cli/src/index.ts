/**
 * proxy-cli as a library: the argv parser and the exit-code table, for tools that wrap the CLI.
 * The bin (`proxy-cli`) is the product; this surface is deliberately small.
 */
export { CliError, isCliError } from './cli-error.js';
export { EXIT_CODE_MEANINGS, EXIT_CODES, type ExitCode } from './exit-codes.js';
export {
  type Action,
  type CliOptions,
  type DataSource,
  DEFAULT_URL,
  DEMO_NAMES,
  type DemoName,
} from './options.js';
export { type ParseResult, type ProgramIo, parseArgv } from './program.js';
