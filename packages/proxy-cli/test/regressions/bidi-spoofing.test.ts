import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ProxyClient } from 'proxy-client';
import { type ProxyProcess, type RedisServer, spawnProxyServer, startRedis } from 'test-support';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { jsonOf, runCli } from '../e2e/harness.js';
import { runInTerminal } from '../e2e/tmux.js';

// A path with RIGHT-TO-LEFT OVERRIDE reached the terminal raw, so `/api/x<U+202E>gnp.exe` read
// as `/api/xexe.png` ("Trojan Source"), in the task view, the list and the watch board alike; a
// body or an error message could turn its text around the same way. Control characters were
// already shown as `\xNN`; these bidirectional ones (and the zero-width ones, which hide text
// and threw the table's widths off by one each) went through untouched.
// proxy-server itself refuses such a path unencoded and keeps it as `%E2%80%AE`; but a task
// comes from whatever the store holds, and a Redis store is shared with anyone who can write to
// it: the test writes the path there, as such a writer (or a proxy other than proxy-server) would.
const PATH = '/api/x\u202egnp.exe';
const SHOWN_PATH = '/api/x\\u202egnp.exe';
const BODY = 'size \u2066\u2067\u2069\u200f ok\u200b\ufeff';
const SHOWN_BODY = 'size \\u2066\\u2067\\u2069\\u200f ok\\u200b\\ufeff';
const INVISIBLE = /[\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

let target: Server;
let redis: RedisServer;
let proxy: ProxyProcess;
let client: ProxyClient;
let id: string;

beforeAll(async () => {
  target = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(BODY);
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  const { port } = target.address() as AddressInfo;
  redis = await startRedis();
  proxy = await spawnProxyServer({
    args: [
      ...['--target-host', '127.0.0.1', '--target-port', String(port)],
      ...['--store', redis.url, '--redis-prefix', 'bidi'],
    ],
  });
  client = new ProxyClient({ baseUrl: proxy.url });
  id = await client.submitTask('api/x', undefined, { method: 'GET' });
  await client.waitForTask(id, { pollIntervalMs: 20 });
  execFileSync('redis-cli', ['-p', String(redis.port), 'HSET', `bidi:task:${id}`, 'p', PATH]);
});
afterAll(async () => {
  await proxy?.stop();
  await redis?.close();
  target?.closeAllConnections();
  await new Promise((resolve) => target?.close(resolve));
});

describe('bidirectional and zero-width characters from outside the CLI', () => {
  it("a task's path and body show them escaped on a terminal", async () => {
    const term = runInTerminal(['task', id, '--url', proxy.url]);
    const screen = await term.waitForScreen((s) => s.includes('[exit 0]'), 'the task');
    expect(screen).toContain(`GET ${SHOWN_PATH}`);
    expect(screen).toContain(SHOWN_BODY);
    expect(screen).not.toMatch(INVISIBLE);
  });

  it('the task list shows them escaped, its box still square', async () => {
    const term = runInTerminal(['list', '--url', proxy.url]);
    const screen = await term.waitForScreen((s) => s.includes('[exit 0]'), 'the list');
    const table = screen.split('\n').filter((line) => /^[┌│├└]/.test(line));
    const row = table.find((line) => line.includes(id));
    expect(row).toContain(`GET ${SHOWN_PATH}`);
    expect(screen).not.toMatch(INVISIBLE);
    expect(new Set(table.map((line) => [...line].length)).size, screen).toBe(1);
  });

  it('the watch board shows them escaped', async () => {
    const term = runInTerminal(['watch', '--url', proxy.url]);
    const screen = await term.waitForScreen((s) => s.includes(id), 'the board');
    expect(screen).toContain(`GET ${SHOWN_PATH}`);
    expect(screen).not.toMatch(INVISIBLE);
    term.sendKeys('C-c');
    await term.waitForScreen((s) => s.includes('[exit 130]'), 'the CLI to stop');
  });

  it('piped and with --json, the path and body keep their characters', async () => {
    const piped = await runCli(['task', id, '--url', proxy.url]);
    expect(piped.stdout).toContain(`path\t${PATH}\n`);
    expect(piped.stdout.endsWith(`--\n${BODY}\n`)).toBe(true);
    const listed = await runCli(['list', '--url', proxy.url]);
    expect(listed.stdout).toContain(`\tGET\t${PATH}\t`);
    const json = jsonOf<{ path: string; result: { body: string } }>(
      await runCli(['task', id, '--json', '--url', proxy.url]),
    );
    expect(json.path).toBe(PATH);
    expect(json.result.body).toBe(BODY);
  });

  it("a proxy's error message shows them escaped on a terminal", async () => {
    const liar = createServer((_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ success: false, error: 'bad_request', message: `no ${PATH}` }));
    });
    await new Promise<void>((resolve) => liar.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => {
      liar.closeAllConnections();
      liar.close();
    });
    const url = `http://127.0.0.1:${(liar.address() as AddressInfo).port}`;
    const term = runInTerminal(['stats', '--url', url]);
    const screen = await term.waitForScreen((s) => s.includes('[exit 5]'), 'the error');
    expect(screen).toContain(`error: no ${SHOWN_PATH}`);
    const piped = await runCli(['stats', '--url', url]);
    expect(piped.stderr).toContain(`error: no ${PATH}`);
  });
});
