import { createServer } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { rawRequest, startProxy } from '../helper.js';

// Hostile HTTP pass: GET /task/:id/result replayed a target's 304 with `Content-Length: 0` and
// `Content-Type: application/octet-stream`, neither of which the target sent. A 304 carries no
// body, and its Content-Length may only be the length a 200 would have had (RFC 9110 §8.6); a
// cache revalidating with the replay would take both as the stored resource's new metadata.
// And a target sending just that, a 304 with the 200's Content-Length (ASP.NET MVC does), had
// its answer lost: undici takes the missing body for a short one and fails the call
// (UND_ERR_RES_CONTENT_LENGTH_MISMATCH), so the task failed upstream_error with no result.

async function notModifiedTarget(headers: Record<string, string>): Promise<string> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(304, headers);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const headerLines = (head: string) => head.toLowerCase().split('\r\n').slice(1);

describe('a replayed 304', () => {
  it('gets no Content-Length or Content-Type the target did not send', async () => {
    const proxy = await startProxy(await notModifiedTarget({ etag: '"v1"' }), { listen: true });
    const id = await proxy.submit('/api/page');
    expect((await proxy.finished(id)).result?.status_code).toBe(304);

    for (const method of ['GET', 'HEAD']) {
      const replay = await rawRequest(
        proxy.url,
        `${method} /task/${id}/result HTTP/1.1\r\nHost: x`,
      );
      expect(replay.status, method).toBe(304);
      const lines = headerLines(replay.head);
      expect(lines, method).toContain('etag: "v1"');
      expect(
        lines.some((line) => line.startsWith('content-length:')),
        method,
      ).toBe(false);
      expect(
        lines.some((line) => line.startsWith('content-type:')),
        method,
      ).toBe(false);
      expect(replay.body, method).toBe('');
    }
  });

  it('keeps the Content-Length the target sent: the length of the 200 it stands for', async () => {
    const target = await notModifiedTarget({ etag: '"v1"', 'content-length': '1234' });
    const proxy = await startProxy(target, { listen: true });
    const id = await proxy.submit('/api/page');
    const task = await proxy.finished(id);
    expect(task.error?.code).toBe('upstream_status');
    expect(task.result).toMatchObject({
      status_code: 304,
      headers: { etag: '"v1"', 'content-length': '1234' },
      body: '',
      body_bytes: 0,
    });
    const replay = await rawRequest(proxy.url, `GET /task/${id}/result HTTP/1.1\r\nHost: x`);
    expect(replay.status).toBe(304);
    expect(headerLines(replay.head)).toContain('content-length: 1234');
    expect(replay.body).toBe('');
  });

  it('is not failed for it, nor is a 204 that declares a length it may not have', async () => {
    // node:http will not write a Content-Length on a 204: a raw socket does.
    const server = createTcpServer((socket) => {
      socket.once('data', () =>
        socket.end('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nX-Kept: yes\r\n\r\n'),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;
    const proxy = await startProxy(`http://127.0.0.1:${port}`, { listen: true });
    const task = await proxy.finished(await proxy.submit('/api/nothing'));
    expect(task.status).toBe('completed');
    expect(task.result).toMatchObject({ status_code: 204, headers: { 'x-kept': 'yes' }, body: '' });
  });
});
