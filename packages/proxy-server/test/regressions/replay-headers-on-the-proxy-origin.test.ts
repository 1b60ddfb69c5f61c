import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startProxy } from '../helper.js';

// Security pass on the dashboard: GET /task/:id/result replayed the target's Set-Cookie,
// Clear-Site-Data and Access-Control-* on the proxy's own origin. Opening a result planted a
// cookie on the proxy's host, wiped the dashboard's stored key, or let any web page read the
// result cross-origin.

const ORIGIN_WIDE = {
  'set-cookie': 'planted=1; Path=/',
  'clear-site-data': '"*"',
  'strict-transport-security': 'max-age=31536000',
  'access-control-allow-origin': '*',
  'access-control-allow-credentials': 'true',
  // Hostile HTTP pass: a replayed 401 with a Basic challenge had the browser ask for a password
  // in the proxy's name, then send it with every later request to the proxy's origin.
  'www-authenticate': 'Basic realm="the target"',
  // Hostile-input pass: a service worker's scope widened to the whole origin, and a redirect
  // of the proxy's origin to any site.
  'service-worker-allowed': '/',
  refresh: '0; url=http://evil.example/',
};

async function targetSending(headers: Record<string, string>): Promise<string> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'text/plain', 'x-kept': 'yes', ...headers });
      response.end('the answer');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("a replayed result's headers that would act on the proxy's origin", () => {
  it('are left out of the replay and kept on the task', async () => {
    const proxy = await startProxy(await targetSending(ORIGIN_WIDE), { listen: true });
    const id = await proxy.submit('/api/anything');
    const task = await proxy.finished(id);
    expect(task.result?.headers).toMatchObject(ORIGIN_WIDE);

    const replay = await fetch(`${proxy.url}/task/${id}/result`);
    expect(await replay.text()).toBe('the answer');
    expect(replay.headers.get('x-kept')).toBe('yes');
    for (const name of Object.keys(ORIGIN_WIDE)) expect(replay.headers.has(name), name).toBe(false);
  });

  it("with --api-key: a result is no shared cache's to keep, whatever the target said", async () => {
    const caching = {
      'cache-control': 'public, max-age=99999',
      'cdn-cache-control': 'max-age=99999',
      'cloudflare-cdn-cache-control': 'max-age=99999',
      'surrogate-control': 'max-age=99999',
      'edge-control': 'cache-maxage=99999',
      'x-accel-expires': '99999',
    };
    const proxy = await startProxy(await targetSending(caching), {
      listen: true,
      flags: ['--api-key', 'k'],
    });
    const authorization = 'Bearer k';
    const submitted = await fetch(`${proxy.url}/api/anything`, {
      method: 'POST',
      headers: { authorization },
    });
    const { task_id: id } = (await submitted.json()) as { task_id: string };
    const replay = await fetch(`${proxy.url}/task/${id}/result?wait=10`, {
      headers: { authorization },
    });
    expect(await replay.text()).toBe('the answer');
    expect(replay.headers.get('cache-control')).toBe('private, no-store');
    for (const name of Object.keys(caching).slice(1)) expect(replay.headers.has(name)).toBe(false);
  });

  it("without a key: the target's own Cache-Control is replayed", async () => {
    const proxy = await startProxy(
      await targetSending({ 'cache-control': 'public, max-age=99999' }),
      { listen: true },
    );
    const id = await proxy.submit('/api/anything');
    await proxy.finished(id);
    const replay = await fetch(`${proxy.url}/task/${id}/result`);
    expect(replay.headers.get('cache-control')).toBe('public, max-age=99999');
  });

  it("leave the proxy's own CORS answer in place", async () => {
    const proxy = await startProxy(await targetSending(ORIGIN_WIDE), {
      listen: true,
      flags: ['--cors-origin', 'https://app.example'],
    });
    const id = await proxy.submit('/api/anything');
    await proxy.finished(id);
    const replay = await fetch(`${proxy.url}/task/${id}/result`, {
      headers: { origin: 'https://app.example' },
    });
    expect(replay.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(replay.headers.has('access-control-allow-credentials')).toBe(false);
  });
});
