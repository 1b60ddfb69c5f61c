import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { startHostileProxy } from '../e2e/hostile-proxy.js';
import { runInTerminal } from '../e2e/tmux.js';
import { makeTask } from '../fixtures.js';

// The watch board counted a column per character, and a CJK character takes two: a path of
// `/api/报告…` was cut to as many characters as the request column had columns, so at 80 columns
// the box came out 87 wide and tmux wrapped every row; at 40, where the rows go unboxed, a row
// ran past the edge and an error code of `超时` pushed its request two columns out of line.
// `capture-pane -J` joins a wrapped line back into one line wider than the terminal.
const PATH = `/api/${'报告'.repeat(20)}`;

// Failed just now, so that the rows' short status and age leave the code column room at 40.
const failed = (code: string) => ({
  status: 'failed' as const,
  created_at: new Date().toISOString(),
  result: null,
  error: { code, message: 'the target took too long' },
});
// A proxy other than proxy-server may send any text as an error code.
const tasks = [
  { ...makeTask({ task_id: 'a'.repeat(36), path: PATH }), ...failed('超时') },
  { ...makeTask({ path: '/api/function1' }), ...failed('reset') },
];

/** The terminal column `text` starts at in `line`. */
const columnOf = (line: string, text: string) => stringWidth(line.slice(0, line.indexOf(text)));

describe('watch with CJK characters in the rows', () => {
  it.each([40, 80])('at %i columns keeps every line within the terminal', async (width) => {
    const url = await startHostileProxy({
      task: tasks[0] ?? {},
      list: { tasks, total: 2, limit: 20, offset: 0 },
    });
    const term = runInTerminal(['watch', '--url', url], { width, height: 20 });
    const screen = await term.waitForScreen((s) => s.includes('Ctrl-C to stop'), 'the first frame');
    expect(screen).toContain('POST /api/报');
    const lines = screen.split('\n').filter((line) => line !== '');
    expect(Math.max(...lines.map((line) => stringWidth(line))), screen).toBeLessThanOrEqual(width);
    // The request column starts at the same column on the head's line and on each task's.
    const requests = lines.filter((line) => /request|POST/.test(line));
    expect(requests, screen).toHaveLength(3);
    const starts = requests.map((line) =>
      columnOf(line, line.includes('POST') ? 'POST' : 'request'),
    );
    expect(new Set(starts).size, screen).toBe(1);
    term.sendKeys('C-c');
    await term.waitForScreen((s) => s.includes('[exit 130]'), 'the CLI to stop');
  });
});
