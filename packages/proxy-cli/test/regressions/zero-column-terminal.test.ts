import { spawn } from 'node:child_process';
import { proxyCliBin, waitFor } from 'test-support';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { type Stack, startStack } from '../e2e/harness.js';

// Issue 17: under `script` without a controlling terminal, stderr is a terminal that reports 0
// columns. ora then computed Infinity lines to clear and looped writing cursor codes: a 2.5 s
// task never returned, 728 MB of output in 10 minutes, SIGTERM ignored. The CLI now treats a
// terminal without a usable width as non-interactive. `stty cols 0` makes the width 0 whatever
// terminal the test runner has.
let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.stop());

const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

/** Runs the CLI in a pseudo-terminal of 0 columns; `pid()` is the CLI's own process id. */
function runInZeroColumns(args: string[]) {
  const cli = [process.execPath, proxyCliBin, ...args].map(quote).join(' ');
  // exec keeps the shell's pid for the CLI, so the test can signal (and clean up) the CLI itself.
  const command = `stty cols 0 rows 0; echo "cli-pid $$"; exec ${cli}`;
  const script = spawn('script', ['-q', '-e', '-f', '-c', command, '/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    // Plain text to match; cursor codes (what the bug wrote) are not colours and still show.
    env: { ...process.env, NO_COLOR: '1' },
  });
  let output = '';
  script.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  script.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    script.once('close', (code, signal) => resolve({ code, signal }));
  });
  const pid = () => Number(/cli-pid (\d+)/.exec(output)?.[1] ?? Number.NaN);
  onTestFinished(() => {
    // Were the bug back, the CLI would spin on: never leave it behind.
    for (const target of [pid(), script.pid]) {
      if (target && Number.isInteger(target)) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
  });
  return { output: () => output, done, pid };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('a terminal that reports 0 columns', () => {
  it('--wait returns with the task, and the output stays small', async () => {
    // A task that outlasts any hold of a submission, so the wait's own progress is what shows.
    const id = (await fetchJson(`${stack.url}/api/function1?delay_ms=2500`)).task_id;
    const run = runInZeroColumns(['wait', id, '--url', stack.url]);
    const { code } = await run.done;
    const output = run.output();
    expect(code, output).toBe(0);
    expect(output).toMatch(/status +│ completed/);
    // Progress as plain lines, as in a log: no spinner frames, no cursor movement.
    expect(output).toMatch(/waiting for task [0-9a-f-]{36} \((pending|processing)\)/);
    expect(output).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
    expect(output).not.toContain('\u001b[1A');
    expect(Buffer.byteLength(output)).toBeLessThan(8 * 1024);
  });

  it('--submit --wait shows no spinner either', async () => {
    const run = runInZeroColumns([
      'submit',
      'api/function1',
      '--data',
      '{"delay_ms":500}',
      '--wait',
      '--url',
      stack.url,
    ]);
    const { code } = await run.done;
    const output = run.output();
    expect(code, output).toBe(0);
    expect(output).toMatch(/status +│ completed/);
    expect(output).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
    expect(Buffer.byteLength(output)).toBeLessThan(8 * 1024);
  });

  it('SIGTERM during a wait ends the CLI', async () => {
    const id = (await fetchJson(`${stack.url}/api/long?seconds=5`)).task_id;
    const run = runInZeroColumns(['wait', id, '--url', stack.url]);
    await waitFor(() => /waiting for task/.test(run.output()) && run.pid(), {
      timeoutMs: 15_000,
      what: 'the CLI to start waiting',
    });
    process.kill(run.pid(), 'SIGTERM');
    await run.done;
    expect(alive(run.pid())).toBe(false);
    expect(Buffer.byteLength(run.output())).toBeLessThan(8 * 1024);
  });
});

async function fetchJson(url: string): Promise<{ task_id: string }> {
  const response = await fetch(url);
  return (await response.json()) as { task_id: string };
}
