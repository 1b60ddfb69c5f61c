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

/** Runs an example program with tsx, as `pnpm --filter proxy-examples <name>` does. */
export function runExample(
  file: string,
  env: Record<string, string>,
  options: Pick<RunOptions, 'timeoutMs' | 'interruptWhen'> = {},
): Promise<ProcessResult> {
  return runProcess(process.execPath, ['--import', 'tsx', file], {
    cwd: examplesDir,
    env: { NO_COLOR: '1', ...env },
    ...options,
  });
}

export function runWalkthrough(env: Record<string, string>): Promise<ProcessResult> {
  return runProcess('bash', ['curl-walkthrough.sh'], { cwd: examplesDir, env, timeoutMs: 50_000 });
}
