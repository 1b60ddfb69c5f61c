import { ProxyClient } from 'proxy-client';
import { type ProxyProcess, spawnProxyServer } from 'test-support';
import { expect } from 'vitest';
import { runCli } from '../e2e/harness.js';
import { listenOnLoopback, screenAtExit, startRefusingProxy } from '../e2e/hostile-proxy.js';

export interface ProxyBeforeText {
  proxy: ProxyProcess;
  client: ProxyClient;
  /** Stops the proxy, then the target. */
  stop(): Promise<void>;
}

/**
 * A real proxy-server (with `proxyArgs`) in front of a target answering every request 200 with
 * `body` as UTF-8 text: the way hostile text reaches a task's result.
 */
export async function startProxyBeforeText(
  body: string,
  proxyArgs: string[] = [],
): Promise<ProxyBeforeText> {
  const target = await listenOnLoopback((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(body);
  });
  let proxy: ProxyProcess;
  try {
    proxy = await spawnProxyServer({
      args: ['--target-host', '127.0.0.1', '--target-port', String(target.port), ...proxyArgs],
    });
  } catch (error) {
    await target.close();
    throw error;
  }
  return {
    proxy,
    client: new ProxyClient({ baseUrl: proxy.url }),
    async stop() {
      await proxy.stop();
      await target.close();
    },
  };
}

/** Submits a GET of `path` and waits until the task has finished; its id. */
export async function finishedGet(client: ProxyClient, path: string): Promise<string> {
  const id = await client.submitTask(path, undefined, { method: 'GET' });
  await client.waitForTask(id, { pollIntervalMs: 20 });
  return id;
}

/**
 * A proxy refusing with `message` makes the CLI exit 5 with the error line showing it as `shown`
 * on a terminal, and as it came when piped.
 */
export async function expectRefusalShown(message: string, shown: string): Promise<void> {
  const url = await startRefusingProxy(message);
  const screen = await screenAtExit(['stats', '--url', url], 'the error');
  expect(screen).toContain('[exit 5]');
  expect(screen).toContain(`error: ${shown}`);
  const piped = await runCli(['stats', '--url', url]);
  expect(piped.stderr).toContain(`error: ${message}`);
}
