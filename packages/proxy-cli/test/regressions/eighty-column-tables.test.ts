import { ProxyClient } from 'proxy-client';
import { waitFor } from 'test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../e2e/harness.js';
import { runInTerminal } from '../e2e/tmux.js';

// In tmux at 80 columns the list table was 83 wide even after dropping took and code (a long
// task's status beside an age of `just now`), the second stats table 98 wide (its "since
// start" row), and the batch demo's table 84 (its whole task ids). tmux wraps what overflows;
// `capture-pane -J` joins it back into one long line.
let stack: Stack;
let client: ProxyClient;

beforeAll(async () => {
  stack = await startStack(['--long-task-threshold', '0.05']);
  client = new ProxyClient({ baseUrl: stack.url });
});
afterAll(() => stack?.stop());

const widest = (screen: string) => Math.max(...screen.split('\n').map((line) => [...line].length));

describe('an 80-column terminal', () => {
  it('--list-tasks with a long task just submitted keeps within it', async () => {
    const id = await client.submitTask('api/long?seconds=5', undefined, { method: 'GET' });
    await waitFor(async () => (await client.getTask(id)).is_long_task, {
      timeoutMs: 5000,
      what: 'the task to be marked long',
    });
    const term = runInTerminal(['list', '--url', stack.url], { width: 80 });
    const screen = await term.waitForScreen((s) => s.includes('[exit 0]'), '--list-tasks');
    expect(screen).toContain(id);
    expect(screen).toMatch(/processing long/);
    expect(widest(screen), screen).toBeLessThanOrEqual(80);
    await client.cancelTask(id);
  });

  it("the batch demo's table keeps within it, its task ids shortened", async () => {
    const term = runInTerminal(['demo', 'batch', '--url', stack.url], { width: 80 });
    const screen = await term.waitForScreen((s) => s.includes('[exit 0]'), '--demo batch');
    const table = screen.split('\n').filter((line) => /^[┌│├└]/.test(line));
    expect(table, screen).toHaveLength(16);
    expect(table[1]).toMatch(/│ # +│ task id +│ status/);
    expect(table[3]).toMatch(/^│ 1 +│ [0-9a-f]{8}… +│ completed/);
    expect(widest(table.join('\n')), screen).toBeLessThanOrEqual(80);
  });

  it('--stats keeps within it, its "since start" row wrapped', async () => {
    const term = runInTerminal(['stats', '--url', stack.url], { width: 80 });
    const screen = await term.waitForScreen((s) => s.includes('[exit 0]'), '--stats');
    expect(screen).toMatch(/since start +│ \d+ submitted/);
    expect(widest(screen), screen).toBeLessThanOrEqual(80);
  });
});
