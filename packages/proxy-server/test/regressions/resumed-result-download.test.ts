import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startProxy } from '../helper.js';

// Interoperability pass: GET /task/:id/result replayed a file server's `Accept-Ranges: bytes`
// but ignored `Range`, answering 200 with the whole body. `curl -C -` resuming a big result
// then gave up ("server doesn't seem to support byte ranges", exit 33), and a download manager
// fetching parts got the whole answer for each. A single byte range of a 200 answer is now
// served as 206 with its Content-Range; anything else keeps the whole 200.

const BODY = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));

async function fileTarget(): Promise<string> {
  const server = createServer((request, response) => {
    request.resume();
    if (request.url === '/api/empty') {
      response.writeHead(200, { 'accept-ranges': 'bytes', 'content-length': '0' });
      response.end();
      return;
    }
    if (request.url === '/api/no-ranges') {
      response.writeHead(200, { 'accept-ranges': 'none' });
      response.end(BODY);
      return;
    }
    if (request.url === '/api/missing') {
      response.writeHead(404, { 'accept-ranges': 'bytes' });
      response.end('no such file, none at all');
      return;
    }
    response.writeHead(200, {
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      etag: '"v1"',
    });
    response.end(BODY);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('a byte range of a replayed result', () => {
  it('is served as 206 with its Content-Range', async () => {
    const proxy = await startProxy(await fileTarget(), { listen: true });
    const id = await proxy.submit('/api/file.bin', { method: 'GET' });
    await proxy.finished(id);
    const result = `${proxy.url}/task/${id}/result`;

    for (const [range, start, end] of [
      ['bytes=100-199', 100, 199],
      ['bytes=900-', 900, 999],
      ['bytes=-10', 990, 999],
      ['bytes=990-5000', 990, 999],
    ] as const) {
      const response = await fetch(result, { headers: { range } });
      expect(response.status, range).toBe(206);
      expect(response.headers.get('content-range'), range).toBe(`bytes ${start}-${end}/1000`);
      expect(response.headers.get('x-proxy-task-id'), range).toBe(id);
      expect(Buffer.from(await response.arrayBuffer()), range).toEqual(
        BODY.subarray(start, end + 1),
      );
    }

    const past = await fetch(result, { headers: { range: 'bytes=1000-' } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe('bytes */1000');
    await past.arrayBuffer();

    // If-Range naming another version, several ranges, another unit: the whole answer.
    const wholeAnswers: Record<string, string>[] = [
      { range: 'bytes=0-9', 'if-range': '"v0"' },
      { range: 'bytes=0-9,20-29' },
      { range: 'items=0-9' },
      { range: 'bytes=9-0' },
    ];
    for (const headers of wholeAnswers) {
      const response = await fetch(result, { headers });
      expect(response.status, JSON.stringify(headers)).toBe(200);
      expect(Buffer.from(await response.arrayBuffer())).toEqual(BODY);
    }
    const current = await fetch(result, { headers: { range: 'bytes=0-9', 'if-range': '"v1"' } });
    expect(current.status).toBe(206);
    await current.arrayBuffer();
  });

  it('is readable by a page on an allowed origin: Content-Range is exposed', async () => {
    const proxy = await startProxy(await fileTarget(), {
      flags: ['--cors-origin', 'https://app.example'],
    });
    const id = await proxy.submit('/api/file.bin', { method: 'GET' });
    await proxy.finished(id);
    const response = await proxy.app.inject({
      url: `/task/${id}/result`,
      headers: { origin: 'https://app.example', range: 'bytes=0-9' },
    });
    expect(response.statusCode).toBe(206);
    expect(String(response.headers['access-control-expose-headers']).split(', ')).toContain(
      'content-range',
    );
  });

  it('is not taken from an answer other than 200', async () => {
    const proxy = await startProxy(await fileTarget(), { listen: true });
    const id = await proxy.submit('/api/missing', { method: 'GET' });
    await proxy.finished(id);
    const response = await fetch(`${proxy.url}/task/${id}/result`, {
      headers: { range: 'bytes=0-1' },
    });
    expect(response.status).toBe(404);
    expect(await response.text()).toBe('no such file, none at all');
  });

  it('is not taken from an empty answer, a HEAD task or a target that takes no ranges', async () => {
    const proxy = await startProxy(await fileTarget(), { listen: true });
    for (const [path, method, size] of [
      ['/api/empty', 'GET', 0],
      ['/api/file.bin', 'HEAD', 0],
      ['/api/no-ranges', 'GET', BODY.length],
    ] as const) {
      // A HEAD's 202 has no body to hold the id: its Location names the task.
      const submitted = await fetch(`${proxy.url}${path}`, { method });
      expect(submitted.status).toBe(202);
      const id = String(submitted.headers.get('location')).replace('/task/', '');
      await proxy.finished(id);
      const response = await fetch(`${proxy.url}/task/${id}/result`, {
        headers: { range: 'bytes=0-' },
      });
      expect(response.status, `${method} ${path}`).toBe(200);
      expect(response.headers.get('content-range'), `${method} ${path}`).toBeNull();
      expect((await response.arrayBuffer()).byteLength, `${method} ${path}`).toBe(size);
    }
  });
});
