import { ProxyClient } from 'proxy-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './harness.js';
import { runInTerminal, SPINNER } from './tmux.js';

// proxy-cli on a real terminal (tmux): the spinner, the colours and Ctrl-C as a person meets them.
let stack: Stack;
let client: ProxyClient;

beforeAll(async () => {
  stack = await startStack();
  client = new ProxyClient({ baseUrl: stack.url });
});
afterAll(() => stack?.stop());

describe('on a terminal', () => {
  it('--wait shows a spinner with status and elapsed time, then the task in colour', async () => {
    const term = runInTerminal([
      '--submit',
      'api/function1',
      '--data',
      '{"delay_ms":2000}',
      '--wait',
      '--url',
      stack.url,
    ]);
    const waiting = await term.waitForScreen(
      (s) => SPINNER.test(s) && s.includes('processing ·'),
      'the spinner on a processing task',
    );
    expect(waiting).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] processing · \d+(\.\d)? m?s · task [0-9a-f-]{36}/);

    const done = await term.waitForScreen((s) => s.includes('[exit 0]'), 'the CLI to finish');
    expect(done).not.toMatch(SPINNER);
    expect(done).toMatch(/status\s+│ completed/);
    expect(done).toContain('Result body');
    expect(term.screen(true)).toContain('\u001b[32mcompleted');
  });

  it('Ctrl-C while waiting: exit 130, the task goes on, and the command to resume', async () => {
    const id = await client.submitTask('api/long?seconds=5', undefined, { method: 'GET' });
    const term = runInTerminal(['--task-id', id, '--wait', '--url', stack.url]);
    await term.waitForScreen((s) => SPINNER.test(s) && s.includes(id), 'the spinner');
    term.sendKeys('C-c');
    const screen = await term.waitForScreen((s) => s.includes('[exit 130]'), 'the CLI to stop');
    expect(screen).toContain(`error: stopped waiting; task ${id} goes on on the proxy`);
    expect(screen).toContain(
      `hint: resume waiting with: proxy-cli --url ${stack.url} --task-id ${id} --wait`,
    );
    expect(screen).not.toMatch(SPINNER);
    expect((await client.getTask(id)).status).toBe('processing');
  });

  it('--stats and --list-tasks draw tables; NO_COLOR is honoured on a terminal', async () => {
    await client.waitForTask(await client.submitTask('api/function1'), { pollIntervalMs: 20 });
    const stats = runInTerminal(['--stats', '--url', stack.url]);
    const screen = await stats.waitForScreen((s) => s.includes('[exit 0]'), '--stats');
    expect(screen).toMatch(/┌─+┬─+┐/);
    expect(stats.screen(true)).toContain('\u001b[32mcompleted');

    const list = runInTerminal(['--list-tasks', '--url', stack.url]);
    const listed = await list.waitForScreen((s) => s.includes('[exit 0]'), '--list-tasks');
    expect(listed).toMatch(/│ task id\s+│ status\s+│ request/);

    const noColor = runInTerminal(['--stats', '--url', stack.url], { env: { NO_COLOR: '1' } });
    await noColor.waitForScreen((s) => s.includes('[exit 0]'), '--stats with NO_COLOR');
    expect(noColor.screen(true)).not.toContain('\u001b[32m');
  });
});
