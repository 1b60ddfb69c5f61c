import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SlowTarget, startSlowTarget } from 'slow-target';
import { spawnProxyServer } from 'test-support';
import { onTestFinished } from 'vitest';
import { type ProcessResult, type RunOptions, runProcess } from './run-process.js';

export const examplesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A real proxy-server in front of `target`, stopped when the current test finishes. */
export async function proxyFor(target: SlowTarget, extraArgs: string[] = []): Promise<string> {
  const proxy = await spawnProxyServer({
    args: [
      '--target-host',
      '127.0.0.1',
      '--target-port',
      String(target.port),
      '--log-level',
      'warn',
      ...extraArgs,
    ],
  });
  // Examples leave slow jobs behind on purpose; a graceful drain would only slow the suite.
  onTestFinished(async () => {
    await proxy.stop('SIGKILL');
  });
  return proxy.url;
}

export { startSlowTarget };

const { scripts } = JSON.parse(readFileSync(join(examplesDir, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};

/**
 * Runs an example program as its script in package.json does (`npm run <name>`, without npm in
 * between): this Node, with the script's own flags.
 */
export function runExample(
  file: string,
  env: Record<string, string>,
  options: Pick<RunOptions, 'timeoutMs' | 'interruptWhen'> = {},
): Promise<ProcessResult> {
  const script = scripts[file.replace(/\.ts$/, '')] ?? '';
  const [node, ...args] = script.split(' ');
  if (node !== 'node' || args.at(-1) !== file) {
    throw new Error(`the script for ${file} is not 'node <flags> ${file}': '${script}'`);
  }
  return runProcess(process.execPath, args, {
    cwd: examplesDir,
    env: { NO_COLOR: '1', ...env },
    ...options,
  });
}

export function runWalkthrough(env: Record<string, string>): Promise<ProcessResult> {
  return runProcess('bash', ['curl-walkthrough.sh'], { cwd: examplesDir, env, timeoutMs: 50_000 });
}
