import { ProxyClient } from 'proxy-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../e2e/harness.js';
import { runInTerminal } from '../e2e/tmux.js';

// In tmux at 40 columns the live board's title (`proxy-cli watch http://…: 1 completed`) and its
// foot (`live from the proxy's events · Ctrl-C to stop`) each wrapped onto a second line.
// `capture-pane -J` joins a wrapped line back into one line longer than the terminal.
let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
  const client = new ProxyClient({ baseUrl: stack.url });
  await client.waitForTask(await client.submitTask('api/function1'), { pollIntervalMs: 20 });
});
afterAll(() => stack?.stop());

describe('watch on a 40-column terminal', () => {
  it('keeps the title and the foot to a line each', async () => {
    const term = runInTerminal(['watch', '--url', stack.url], { width: 40, height: 20 });
    const screen = await term.waitForScreen(
      (s) => s.includes('Ctrl-C to stop') && s.includes('completed'),
      'the first frame',
    );
    const lines = screen.split('\n');
    const host = stack.url.replace('http://', '');
    const title = lines.find((line) => line.includes(host));
    const foot = lines.find((line) => line.includes('Ctrl-C to stop'));
    const fits = (line = '') => [...line].length <= 40;
    expect([fits(title), fits(foot)], screen).toEqual([true, true]);
    expect(title, screen).toMatch(/: 1 completed$/);
    expect(foot, screen).toBe('live · Ctrl-C to stop');
    term.sendKeys('C-c');
    await term.waitForScreen((s) => s.includes('[exit 130]'), 'the CLI to stop');
  });
});
