import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ProxyClient, ProxyUnreachableError } from '../src/index.js';

// These go through Node's real fetch, with no MSW in the way, to see what a user sees.
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A port that was just free: nothing listens there, so connections are refused at once. */
async function closedPort(): Promise<string> {
  const url = await listen(() => {});
  await new Promise((r) => servers.pop()!.close(r));
  return url;
}

describe('over a real socket', () => {
  it('a refused connection is a ProxyUnreachableError naming ECONNREFUSED', async () => {
    const proxy = new ProxyClient({ baseUrl: await closedPort(), maxRetries: 0 });
    const error = await proxy.health().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProxyUnreachableError);
    expect((error as Error).message).toContain('ECONNREFUSED');
  });

  it('a socket dropped mid-answer is retried for reads, then reported', async () => {
    let requests = 0;
    const url = await listen((request) => {
      requests += 1;
      request.socket.destroy();
    });
    const proxy = new ProxyClient({ baseUrl: url, maxRetries: 1 });
    await expect(proxy.getStats()).rejects.toBeInstanceOf(ProxyUnreachableError);
    expect(requests).toBe(2);
  });
});
