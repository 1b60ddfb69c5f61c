import { runProcess } from '../../../examples/test/support/run-process.js';
import { proxyCliBin, proxyServerBin } from '../../../tools/test-support/index.mjs';
import { repoRoot } from './doc-environment.js';

export interface HelpText {
  text: string;
  /** Every `--flag` the help names, without duplicates. */
  flags: string[];
  /** Every `PROXY_*` environment variable the help names. */
  envVars: string[];
}

const unique = (values: Iterable<string>) => [...new Set(values)].sort();

export function flagsIn(text: string): string[] {
  return unique(text.match(/--[a-z][a-z0-9-]*/g) ?? []);
}

export function envVarsIn(text: string): string[] {
  return unique(text.match(/\bPROXY_[A-Z0-9_]+\b/g) ?? []);
}

/** True when `text` names `flag` as a whole word (`--api-key` is not found in `--api-key-file`). */
export function mentionsFlag(text: string, flag: string): boolean {
  return new RegExp(`${flag}(?![a-z0-9-])`).test(text);
}

async function helpOf(bin: string): Promise<HelpText> {
  const result = await runProcess(process.execPath, [bin, '--help'], {
    cwd: repoRoot,
    env: { NO_COLOR: '1' },
  });
  if (result.code !== 0)
    throw new Error(`${bin} --help exited with ${result.code}: ${result.stderr}`);
  return { text: result.stdout, flags: flagsIn(result.stdout), envVars: envVarsIn(result.stdout) };
}

export const serverHelp = () => helpOf(proxyServerBin);
export const cliHelp = () => helpOf(proxyCliBin);
