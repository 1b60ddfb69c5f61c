import { type ChildProcess, spawn } from 'node:child_process';
import { type SlowTarget, startSlowTarget } from 'slow-target';
import { type ProxyProcess, proxyCliBin, spawnProxyServer, waitFor } from 'test-support';
import { onTestFinished } from 'vitest';

export interface Stack {
  target: SlowTarget;
  proxy: ProxyProcess;
  url: string;
  stop(): Promise<void>;
}

/** slow-target and a real proxy-server process in front of it; `stop()` ends both. */
export async function startStack(proxyArgs: string[] = []): Promise<Stack> {
  const target = await startSlowTarget();
  let proxy: ProxyProcess;
  try {
    proxy = await spawnProxyServer({
      args: ['--target-host', target.host, '--target-port', String(target.port), ...proxyArgs],
    });
  } catch (error) {
    await target.close();
    throw error;
  }
  return {
    target,
    proxy,
    url: proxy.url,
    async stop() {
      await proxy.stop();
      await target.close();
    },
  };
}

/** The environment the CLI runs in: none of the caller's colour or proxy settings leak in. */
function cliEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [
    'NO_COLOR',
    'FORCE_COLOR',
    'PROXY_URL',
    'PROXY_API_KEY',
    'PROXY_CLI_DEMO_PROXY_STOPS',
    'CI',
    // Set when the tests run under `npx vitest`: the CLI would then write its hints for npx.
    'npm_command',
  ])
    delete clean[name];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete clean[name];
    else clean[name] = value;
  }
  return clean;
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Set when the CLI exited before reading all of its stdin. */
  inputUnread?: NodeJS.ErrnoException;
}

export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stderr matches, with the match; rejects at the deadline. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  done: Promise<CliRun>;
}

/** Starts the built CLI (dist/bin.js) as a child process with pipes, so it is never on a TTY. */
export function spawnCli(
  args: string[],
  options: { env?: Record<string, string | undefined>; stdin?: string | Buffer } = {},
): CliProcess {
  const child = spawn(process.execPath, [proxyCliBin, ...args], {
    env: cliEnv(options.env ?? {}),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let inputUnread: NodeJS.ErrnoException | undefined;
  // The CLI may exit without reading its input (a usage error): its closed pipe is no error of
  // the test's, and unheard it would fail the run as an uncaught EPIPE.
  child.stdin.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    inputUnread = error;
  });
  child.stdin.end(options.stdin ?? '');
  const done = new Promise<CliRun>((resolve) => {
    child.once('close', (code, signal) =>
      resolve({ code, signal, stdout, stderr, ...(inputUnread && { inputUnread }) }),
    );
  });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    waitForStderr: (pattern, timeoutMs = 10_000) =>
      waitFor(() => stderr.match(pattern), { timeoutMs, what: `stderr to match ${pattern}` }),
    done,
  };
}

/** Runs the CLI to the end. */
export function runCli(
  args: string[],
  options: { env?: Record<string, string | undefined>; stdin?: string | Buffer } = {},
): Promise<CliRun> {
  return spawnCli(args, options).done;
}

/** Parses stdout as the one JSON document a --json run prints. */
export function jsonOf<T = Record<string, unknown>>(run: CliRun): T {
  return JSON.parse(run.stdout) as T;
}

export const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
export const ANSI = '\u001b[';
