import { ProxyClient } from 'proxy-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANSI, runCli, type Stack, startStack } from '../e2e/harness.js';

// `FORCE_COLOR=1 NO_COLOR=1 proxy-cli list | cat` printed no colours, as NO_COLOR wins here, yet
// stderr carried Node's own warning saying the opposite: "The 'NO_COLOR' env is ignored due to
// the 'FORCE_COLOR' env being set". Node warns when anything first asks it for a colour depth:
// ora's colour library as it loads on Node 20, Node's own util as it is imported on Node 24.

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
  const client = new ProxyClient({ baseUrl: stack.url });
  await client.waitForTask(await client.submitTask('api/function1'), { pollIntervalMs: 20 });
});

afterAll(async () => {
  await stack?.stop();
});

const list = (env: Record<string, string>) => runCli(['list', '--url', stack.url], { env });

describe('a list with FORCE_COLOR set', () => {
  it('and NO_COLOR: no colours, and no warning that NO_COLOR is ignored', async () => {
    const run = await list({ FORCE_COLOR: '1', NO_COLOR: '1' });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('completed');
    expect(run.stdout).not.toContain(ANSI);
    expect(run.stderr).toBe('tasks 1–1 of 1\n');
  });

  it('alone: colours still', async () => {
    const run = await list({ FORCE_COLOR: '1' });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('\u001b[32mcompleted\u001b[39m');
    expect(run.stderr).toBe('tasks 1–1 of 1\n');
  });
});
