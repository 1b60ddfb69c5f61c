import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SlowTarget, startSlowTarget } from 'slow-target';
import { type ProxyProcess, proxyServerBin, spawnProxyServer, waitFor } from 'test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyClient } from '../../src/index.js';
import { relay } from '../helpers/relay.js';

/**
 * The SDK and CLI pass: a proxy killed during a held read looked like a gateway cutting it (the
 * socket closed after a second or more), so the wait held its reads a second or two from then
 * on, for the rest of its life: after every restart, each waiting client asked up to 60 times
 * as often. The read after such a "cut" is refused at once, which a gateway's is not: the cut
 * is forgotten then.
 */
const TASK_MS = 6000;

let target: SlowTarget;
let dataDir: string;
let proxy: ProxyProcess | undefined;
/** A stand-in for a fixed address in front of the proxy, whichever port it listens on now. */
let front: Server;
let frontUrl: string;
/** The path and `?wait=` of each read of a task through `front`, and when it came. */
const reads: Array<{ path: string; wait: string | null; at: number }> = [];

const startProxy = () =>
  spawnProxyServer({
    args: [
      '--target-url',
      target.url,
      '--data-dir',
      dataDir,
      '--requeue-interrupted',
      '--log-level',
      'warn',
    ],
  });

beforeAll(async () => {
  if (!existsSync(proxyServerBin)) {
    throw new Error(`${proxyServerBin} is missing: run \`pnpm build\` first`);
  }
  target = await startSlowTarget({ port: 0 });
  dataDir = await mkdtemp(join(tmpdir(), 'held-reads-'));
  proxy = await startProxy();
  front = createServer((incoming, outgoing) => {
    const url = new URL(incoming.url ?? '/', 'http://front');
    if (url.pathname.startsWith('/task/')) {
      reads.push({ path: url.pathname, wait: url.searchParams.get('wait'), at: performance.now() });
    }
    // No proxy behind it: the connection ends at once, as a proxy's refused one would.
    if (proxy === undefined) {
      incoming.socket.destroy();
      return;
    }
    // The proxy died under the read: its connection closes, unanswered.
    relay(incoming, outgoing, proxy.url).on('error', () => incoming.socket.destroy());
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
});

afterAll(async () => {
  front?.closeAllConnections();
  await new Promise((resolve) => front?.close(resolve));
  await proxy?.stop();
  await target?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('waitForTask across a proxy killed during a held read', () => {
  it('holds its reads as long as before once the proxy is back', async () => {
    const client = new ProxyClient({ baseUrl: frontUrl });
    const { taskId } = await client.submit('api/function1', { delay_ms: TASK_MS });
    const waiting = client.waitForTask(taskId, { timeoutMs: 60_000 });
    const after = await killedDuringAHeldRead(taskId);

    expect((await waiting).status).toBe('completed');
    // The task runs its whole call again after the restart: read once or twice, held, not
    // every second or two of it.
    // Up to the proxy's 60 s, less what is left of the wait's own timeout.
    expect(Number(after().at(-1)?.wait)).toBeGreaterThan(30);
    expect(after().length).toBeLessThanOrEqual(3);
  }, 60_000);
});

describe('getResult across a proxy killed during a held read', () => {
  it('holds its reads as long as before once the proxy is back', async () => {
    const client = new ProxyClient({ baseUrl: frontUrl });
    const { taskId } = await client.submit('api/function1', { delay_ms: TASK_MS });
    // Retries enough to outlast the restart: a held read is retried maxRetries times.
    const result = client.getResult(taskId, { waitMs: 60_000, maxRetries: 6 });
    const after = await killedDuringAHeldRead(taskId);

    expect((await result).status).toBe(200);
    expect(Number(after().at(-1)?.wait)).toBeGreaterThan(30);
    expect(after().length).toBeLessThanOrEqual(3);
  }, 60_000);
});

/**
 * Kills the proxy once a read of `taskId` has been held a while, and starts it again; returns
 * the reads of that task from then on.
 */
async function killedDuringAHeldRead(taskId: string) {
  const ofTask = () => reads.filter((read) => read.path.startsWith(`/task/${taskId}`));
  await waitFor(() => ofTask().some((read) => read.wait === '60'), { what: 'a held read' });
  // Held a while: past what tells a cut from a refusal.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const killed = proxy;
  proxy = undefined;
  await killed?.stop('SIGKILL');
  await new Promise((resolve) => setTimeout(resolve, 500));
  proxy = await startProxy();
  const backAt = performance.now();
  return () => ofTask().filter((read) => read.at > backAt);
}
