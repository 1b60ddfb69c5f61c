import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../e2e/harness.js';
import { screenAtExit } from '../e2e/hostile-proxy.js';
import {
  expectRefusalShown,
  finishedGet,
  type ProxyBeforeText,
  startProxyBeforeText,
} from './hostile-target.js';

// A target's text body carrying ESC]0;…BEL (retitle the window) and ESC[2J (clear the screen),
// and a proxy's error message with the same, reached the terminal raw: the terminal obeyed them,
// so the screen showed neither, and a body could wipe or forge what the CLI had printed.
const BODY = 'before\u001b]0;pwned\u0007\u001b[2Jafter\r\nnext line\u009b31m';
const SHOWN = 'before\\x1b]0;pwned\\x07\\x1b[2Jafter';

let stack: ProxyBeforeText;

beforeAll(async () => {
  stack = await startProxyBeforeText(BODY);
});
afterAll(() => stack?.stop());

describe('control characters from outside the CLI', () => {
  it("a task's text body is shown with its escapes visible on a terminal", async () => {
    const id = await finishedGet(stack.client, 'api/anything');
    const screen = await screenAtExit(['task', id, '--url', stack.proxy.url], 'the task');
    expect(screen).toContain('[exit 0]');
    expect(screen).toContain(`${SHOWN}\nnext line\\x9b31m`);
    expect(screen).toContain(`task id`);
  });

  it('piped and with --json, the body keeps its bytes', async () => {
    const id = await finishedGet(stack.client, 'api/anything');
    const piped = await runCli(['task', id, '--url', stack.proxy.url]);
    expect(piped.stdout.endsWith(`--\n${BODY}\n`)).toBe(true);
    const json = await runCli(['task', id, '--json', '--url', stack.proxy.url]);
    expect(JSON.parse(json.stdout).result.body).toBe(BODY);
  });

  it("a proxy's error message is shown with its escapes visible on a terminal", async () => {
    await expectRefusalShown(`no ${BODY.slice(0, 28)}`, `no ${SHOWN}`);
  });
});
