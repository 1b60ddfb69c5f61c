import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ProxyClient } from 'proxy-client';
import { type ProxyProcess, spawnProxyServer } from 'test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../e2e/harness.js';
import { screenAtExit, startRefusingProxy } from '../e2e/hostile-proxy.js';

// A target's text body carrying ESC]0;…BEL (retitle the window) and ESC[2J (clear the screen),
// and a proxy's error message with the same, reached the terminal raw: the terminal obeyed them,
// so the screen showed neither, and a body could wipe or forge what the CLI had printed.
const BODY = 'before\u001b]0;pwned\u0007\u001b[2Jafter\r\nnext line\u009b31m';
const SHOWN = 'before\\x1b]0;pwned\\x07\\x1b[2Jafter';

let target: Server;
let proxy: ProxyProcess;
let client: ProxyClient;

beforeAll(async () => {
  target = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(BODY);
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  const { port } = target.address() as AddressInfo;
  proxy = await spawnProxyServer({
    args: ['--target-host', '127.0.0.1', '--target-port', String(port)],
  });
  client = new ProxyClient({ baseUrl: proxy.url });
});
afterAll(async () => {
  await proxy?.stop();
  target?.closeAllConnections();
  await new Promise((resolve) => target?.close(resolve));
});

describe('control characters from outside the CLI', () => {
  it("a task's text body is shown with its escapes visible on a terminal", async () => {
    const id = await client.submitTask('api/anything', undefined, { method: 'GET' });
    await client.waitForTask(id, { pollIntervalMs: 20 });
    const screen = await screenAtExit(['task', id, '--url', proxy.url], 'the task');
    expect(screen).toContain('[exit 0]');
    expect(screen).toContain(`${SHOWN}\nnext line\\x9b31m`);
    expect(screen).toContain(`task id`);
  });

  it('piped and with --json, the body keeps its bytes', async () => {
    const id = await client.submitTask('api/anything', undefined, { method: 'GET' });
    await client.waitForTask(id, { pollIntervalMs: 20 });
    const piped = await runCli(['task', id, '--url', proxy.url]);
    expect(piped.stdout.endsWith(`--\n${BODY}\n`)).toBe(true);
    const json = await runCli(['task', id, '--json', '--url', proxy.url]);
    expect(JSON.parse(json.stdout).result.body).toBe(BODY);
  });

  it("a proxy's error message is shown with its escapes visible on a terminal", async () => {
    const url = await startRefusingProxy(`no ${BODY.slice(0, 28)}`);
    const screen = await screenAtExit(['stats', '--url', url], 'the error');
    expect(screen).toContain('[exit 5]');
    expect(screen).toContain(`error: no ${SHOWN}`);
    const piped = await runCli(['stats', '--url', url]);
    expect(piped.stderr).toContain(`error: no ${BODY.slice(0, 28)}`);
  });
});
