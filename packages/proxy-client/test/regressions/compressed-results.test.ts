import { existsSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { type ProxyProcess, proxyServerBin, spawnProxyServer } from 'test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyClient, ProxyError } from '../../src/index.js';

/**
 * Node's fetch asks for `gzip, deflate` on every request it sends unless told otherwise. On a
 * submission that request reaches the target, so a target that compresses when asked (most
 * frameworks' gzip middleware) answered compressed, and the task kept that answer: `run()` gave a
 * base64 string of gzip bytes where a curl user got the parsed JSON.
 */
const PAYLOAD = { items: Array.from({ length: 50 }, (_, i) => ({ i, name: `item ${i}` })) };

let target: Server;
let proxy: ProxyProcess;
const seen: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  if (!existsSync(proxyServerBin)) {
    throw new Error(`${proxyServerBin} is missing: run \`pnpm build\` first`);
  }
  target = createServer((request, response) => {
    seen.push(request.headers);
    request.resume();
    request.on('end', () => {
      const body = JSON.stringify(PAYLOAD);
      if (request.url?.includes('broken')) {
        response.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
        response.end('not gzip at all');
      } else if (/\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) {
        response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        response.end(gzipSync(body));
      } else {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(body);
      }
    });
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  const { port } = target.address() as AddressInfo;
  proxy = await spawnProxyServer({
    args: ['--target-url', `http://127.0.0.1:${port}`, '--store', 'memory', '--log-level', 'warn'],
  });
});

afterAll(async () => {
  await proxy?.stop();
  await new Promise((resolve) => target?.close(resolve));
});

describe('a submission from the SDK', () => {
  it('gets the answer of a compressing target as JSON, not as base64 gzip', async () => {
    const client = new ProxyClient({ baseUrl: proxy.url });
    const body = await client.run('items', { q: 1 }, { timeoutMs: 10_000 });
    expect(body).toEqual(PAYLOAD);
    expect(seen.at(-1)?.['accept-encoding']).toBe('identity');
  });

  it('still sends an Accept-Encoding the caller gives, in the call or the client', async () => {
    const perCall = new ProxyClient({ baseUrl: proxy.url });
    const task = await perCall.submitAndWait('items', undefined, {
      method: 'GET',
      headers: { 'Accept-Encoding': 'gzip' },
      timeoutMs: 10_000,
    });
    expect(task.result).toMatchObject({ body_encoding: 'base64' });
    expect(seen.at(-1)?.['accept-encoding']).toBe('gzip');

    const perClient = new ProxyClient({ baseUrl: proxy.url, headers: { 'accept-encoding': 'br' } });
    await perClient.run('items', undefined, { method: 'GET', timeoutMs: 10_000 });
    expect(seen.at(-1)?.['accept-encoding']).toBe('br');
  });
});

describe('getResult of an answer the target compressed', () => {
  it('gives the bytes fetch decoded, the Content-Encoding header still there', async () => {
    const client = new ProxyClient({ baseUrl: proxy.url });
    const taskId = await client.submitTask('items', undefined, {
      method: 'GET',
      headers: { 'accept-encoding': 'gzip' },
    });
    await client.waitForTask(taskId, { timeoutMs: 10_000 });
    const result = await client.getResult(taskId);
    expect(result.headers.get('content-encoding')).toBe('gzip');
    expect(result.json()).toEqual(PAYLOAD);
  });

  it('that does not decode is said to be the target answer, with where its bytes are', async () => {
    const client = new ProxyClient({ baseUrl: proxy.url });
    const taskId = await client.submitTask('broken', undefined, { method: 'GET' });
    const task = await client.waitForTask(taskId, { timeoutMs: 10_000 });
    expect(task.result).toMatchObject({ body: 'not gzip at all' });
    const error = await client.getResult(taskId).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProxyError);
    expect(error).toMatchObject({ code: 'invalid_response' });
    expect((error as Error).message).toBe(
      `GET ${proxy.url}/task/${taskId}/result: fetch decodes a replayed body by its ` +
        "Content-Encoding, and the target's (gzip) does not decode (incorrect header check): " +
        'getTask has the body as the target sent it, in result.body',
    );
  });
});
