import { once } from 'node:events';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { rawRequest, startProxy, startTarget, tasksSubmitted } from '../helper.js';

// Hostile-input pass: a body sent `Transfer-Encoding: gzip, chunked` was de-chunked by Node but
// left compressed, and forwarded without any header saying so: the target got gzip bytes as
// `application/json`, and the task completed.

function chunked(body: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`${body.length.toString(16)}\r\n`),
    body,
    Buffer.from('\r\n0\r\n\r\n'),
  ]);
}

describe('a request body with a transfer coding besides chunked', () => {
  it.each(['gzip, chunked', 'deflate,chunked'])(
    '%s: 400 naming the coding, no task',
    async (coding) => {
      const target = await startTarget();
      const proxy = await startProxy(target.url, { listen: true });
      const response = await rawRequest(
        proxy.url,
        `POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: ${coding}`,
        chunked(gzipSync('{"a":1}')),
      );
      expect(response.status).toBe(400);
      expect(JSON.parse(response.body)).toEqual({
        success: false,
        error: 'bad_request',
        message: `Transfer-Encoding "${coding}" is not supported: only chunked is (a compressed body says so with Content-Encoding)`,
      });
      expect(await tasksSubmitted(proxy.url)).toBe(0);
      expect(target.stats().requests).toBe(0);
    },
  );

  it('chunked alone, in any case, is forwarded as the bytes it carries', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const response = await rawRequest(
      proxy.url,
      'POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: Chunked',
      chunked(Buffer.from('hello')),
    );
    expect(response.status).toBe(202);
    const task = await proxy.finished(JSON.parse(response.body).task_id);
    expect(task.status).toBe('completed');
    expect(task.result?.body).toMatchObject({
      body_base64: Buffer.from('hello').toString('base64'),
    });
  });

  // Hostile-caller pass: HTTP/1.0 has no chunked framing, so a front end of that version reads
  // such a body otherwise; the connection served the request after it, the ground for request
  // smuggling (RFC 9112 §6.1 says close it).
  it('on HTTP/1.0: answered, then the connection closes, and what came after it is not read', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const { port } = new URL(proxy.url);
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    const closed = once(socket, 'close');
    socket.write(
      'POST /api/echo HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' +
        'GET /api/second HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    await closed;
    expect(received.match(/^HTTP\/1\.1 \d+/gm)).toEqual(['HTTP/1.1 202']);
    expect(received.toLowerCase()).toContain('connection: close');
    expect(await tasksSubmitted(proxy.url)).toBe(1);
  });
});
