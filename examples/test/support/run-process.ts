import { spawn } from 'node:child_process';

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the deadline passed and the process group was killed. */
  timedOut: boolean;
  /** Set when the program exited before reading all of `input`. */
  inputUnread?: NodeJS.ErrnoException;
}

export interface RunOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  /** @default 30000 */
  timeoutMs?: number;
  input?: string;
  /** Sends the program SIGINT (Ctrl-C) once its stderr matches. */
  interruptWhen?: RegExp;
}

/**
 * Runs a program to completion without blocking the event loop (the tests' slow-target lives in
 * this process and must keep answering). The child leads its own process group so a timeout
 * also ends anything it started.
 */
export function runProcess(
  command: string,
  args: string[],
  { cwd, env = {}, timeoutMs = 30_000, input, interruptWhen }: RunOptions,
): Promise<ProcessResult> {
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  let interrupted = false;
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    if (interruptWhen && !interrupted && interruptWhen.test(stderr)) {
      interrupted = true;
      child.kill('SIGINT');
    }
  });
  let inputUnread: NodeJS.ErrnoException | undefined;
  // A program may exit without reading its input (a setting refused at once): its closed pipe is
  // no error of the test's, and unheard it would fail the run as an uncaught EPIPE.
  child.stdin.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    inputUnread = error;
  });
  child.stdin.end(input ?? '');
  const timer = setTimeout(() => {
    timedOut = true;
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  }, timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut, inputUnread });
    });
  });
}

/** A failure message with everything the process said, so a red test explains itself. */
export function describeRun(what: string, result: ProcessResult): string {
  const how = result.timedOut
    ? 'timed out'
    : `exited with ${result.code ?? `signal ${result.signal}`}`;
  return `${what} ${how}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}
