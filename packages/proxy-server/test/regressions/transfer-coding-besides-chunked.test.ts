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
});
