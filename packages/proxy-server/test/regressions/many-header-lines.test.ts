import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { rawRequest, recordingTarget, startProxy, tasksSubmitted } from '../helper.js';

// Security pass: Node keeps a request's first thousand or so header lines and drops the rest
// without a word. Behind 1,100 short ones (9 KB, under the header size limit), a Content-Length
// was never seen: the task was accepted with 202 and its body dropped; an Expect the proxy
// cannot meet, or a second Idempotency-Key, went unrefused.

const FILLER = Array.from({ length: 1_100 }, (_, i) => `a${i}: 1`);

const head = (...last: string[]) =>
  ['POST /api/echo HTTP/1.1', 'Host: x', ...FILLER, ...last].join('\r\n');

describe('a request with over a thousand header lines', () => {
  it('keeps a body framed by a header after them, and forwards every line', async () => {
    const target = await recordingTarget((req: IncomingMessage, body: string) => ({
      body,
      lines: req.rawHeaders.length / 2,
      last: req.headers.a1099,
    }));
    const proxy = await startProxy(target.url, { listen: true });
    for (const [framing, body] of [
      ['Content-Length: 3', 'abc'],
      ['Transfer-Encoding: chunked', '3\r\nabc\r\n0\r\n\r\n'],
    ] as const) {
      const response = await rawRequest(proxy.url, head(framing), body);
      expect(response.status, framing).toBe(202);
      expect((await proxy.finished(JSON.parse(response.body).task_id)).status).toBe('completed');
    }
    expect(target.seen.map(({ body, last }) => ({ body, last }))).toEqual([
      { body: 'abc', last: '1' },
      { body: 'abc', last: '1' },
    ]);
    for (const { lines } of target.seen) expect(lines).toBeGreaterThan(FILLER.length);
  });

  it.each([
    ['Expect: nonsense', 417],
    ['Idempotency-Key: a\r\nIdempotency-Key: b', 400],
  ])('is refused for %j after them as it is alone (%i), with no task', async (line, status) => {
    const target = await recordingTarget(() => ({}));
    const proxy = await startProxy(target.url, { listen: true });
    const response = await rawRequest(proxy.url, head('Content-Length: 0', line));
    expect(response.status).toBe(status);
    expect(await tasksSubmitted(proxy.url)).toBe(0);
  });
});
