import { describe, expect, it } from 'vitest';
import { runInTerminal } from '../e2e/tmux.js';

// `--data @-` typed at a terminal waited for stdin without a word, so it looked hung, and Ctrl-C
// did nothing: the abort reached no request, since none had started, and the read went on.
// Nothing listens at the URL: the read comes before any request, and none may be sent.
const URL = 'http://127.0.0.1:9';

describe('--data @- on a terminal', () => {
  it('says it reads the body from the terminal, and takes it when typed', async () => {
    const term = runInTerminal(['submit', 'api/x', '--data', '@-', '--url', URL]);
    await term.waitForScreen((s) => s.includes('Ctrl-D'), 'the prompt for the body');
    expect(term.screen()).toContain('reading the request body (JSON) from the terminal');
    term.sendKeys('{"a": oops}', 'Enter', 'C-d');
    const screen = await term.waitForScreen((s) => s.includes('[exit 2]'), 'the JSON error');
    expect(screen).toContain('--data: stdin is not valid JSON');
  });

  it('Ctrl-C stops the read at once: exit 130, nothing submitted', async () => {
    const term = runInTerminal(['submit', 'api/x', '--data', '@-', '--url', URL]);
    await term.waitForScreen((s) => s.includes('Ctrl-D'), 'the prompt for the body');
    term.sendKeys('C-c');
    const screen = await term.waitForScreen((s) => s.includes('[exit 130]'), 'the interrupt');
    expect(screen).toContain(
      'error: interrupted while reading --data from stdin; nothing was submitted',
    );
    expect(screen).not.toContain('could not reach');
  });
});
