import { describe, expect, it } from 'vitest';
import { rawTarget, startProxy } from '../helper.js';

// Hostile-upstream pass: an answer whose body length is ambiguous (`Content-Length: 2` and
// `Content-Length: 5`, the socket left open) failed the task `upstream_reset`, "reset or closed
// before the answer (UND_ERR_RES_CONTENT_LENGTH_MISMATCH…)". Nothing was reset: undici gives that
// code in place of the parser's own when it refuses a head with a Content-Length in it, so the
// answer was not valid HTTP, and `--retry-on reset` called the target again for it. It is now
// `upstream_error`. A target that closes in the middle of the body (which undici also calls a
// mismatch, when the answer said `Connection: close`) stays `upstream_reset`, saying where.

const RETRY_RESETS = ['--retry-on', 'reset', '--max-attempts', '3', '--retry-min-delay', '0.01'];

describe('an answer whose framing is not valid HTTP', () => {
  it.each([
    ['two Content-Lengths', 'Content-Length: 2\r\nContent-Length: 5\r\n\r\nhello'],
    ['a Content-Length list', 'Content-Length: 2, 5\r\n\r\nhello'],
    [
      'Content-Length beside chunked',
      'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    ],
    ['a malformed line after Content-Length', 'Content-Length: 5\r\nNo Colon\r\n\r\nhello'],
  ])('%s: upstream_error, not retried as a reset', async (_how, rest) => {
    let calls = 0;
    const target = await rawTarget((socket) => {
      calls++;
      socket.write(`HTTP/1.1 200 OK\r\n${rest}`);
    });
    const proxy = await startProxy(target, { listen: true, flags: RETRY_RESETS });
    const task = await proxy.finished(await proxy.submit('/api/job'));
    expect(task.status).toBe('failed');
    expect(task.error?.code).toBe('upstream_error');
    expect(task.error?.message).toContain("the head of the target's answer is not valid HTTP");
    expect(task.attempts).toBe(1);
    expect(calls).toBe(1);
  });
});

describe('a target that closes in the middle of the body', () => {
  it.each([
    ['on a kept-alive connection', ''],
    ['after Connection: close', 'Connection: close\r\n'],
  ])('%s: upstream_reset, naming where it was cut', async (_how, connection) => {
    const target = await rawTarget((socket) =>
      socket.end(`HTTP/1.1 200 OK\r\nContent-Length: 10\r\n${connection}\r\nhello`),
    );
    const proxy = await startProxy(target, { listen: true });
    const task = await proxy.finished(await proxy.submit('/api/job'));
    expect(task.error?.code).toBe('upstream_reset');
    expect(task.error?.message).toContain(
      "the target closed the connection in the middle of its answer's body, after 5 of 10 bytes",
    );
    expect(task.error?.message).not.toContain('before the answer');
  });
});
