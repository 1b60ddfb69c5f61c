import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { rawRequest, recordingTarget, startProxy } from '../helper.js';

// Hostile-input audit: a Content-Type that is no `type/subtype` (`foo`, `/`, a list) was refused
// with `400 Unsupported Media Type`, while the docs say bodies are bytes and any content type
// works. Such a submission is now a task, and the target gets the header and the bytes as sent.

/** What the target keeps of each request. */
const recorded = (req: IncomingMessage, body: string) => ({
  method: req.method ?? '',
  contentType: req.headers['content-type'],
  body,
});

const CONTENT_TYPES = [
  '',
  'foo',
  'text',
  '/',
  ';;;===',
  'application/json, text/plain',
  'text/',
  '/plain',
  'a/b/c',
  'text/plain;;charset',
  '{"not": "a type"}',
];

describe('a submission whose Content-Type is no media type', () => {
  it.each(CONTENT_TYPES)(
    'POST with Content-Type %j is a task; the target gets it as sent',
    async (contentType) => {
      const target = await recordingTarget(recorded);
      const proxy = await startProxy(target.url, { listen: true });
      const body = '\u0000{"raw":"\u00ff bytes"}';
      const response = await rawRequest(
        proxy.url,
        `POST /api/x HTTP/1.1\r\nHost: x\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}`,
        Buffer.from(body, 'latin1'),
      );
      expect(response.status).toBe(202);
      expect((await proxy.finished(JSON.parse(response.body).task_id)).status).toBe('completed');
      expect(target.seen).toEqual([{ method: 'POST', contentType, body }]);
    },
  );

  it.each([
    ['PUT', 'foo', 'bytes'],
    ['QUERY', 'text', 'select 1'],
    ['DELETE', '/', ''],
  ])('%s with Content-Type %j and body %j is a task too', async (method, contentType, body) => {
    const target = await recordingTarget(recorded);
    const proxy = await startProxy(target.url, { listen: true });
    const response = await rawRequest(
      proxy.url,
      `${method} /api/x HTTP/1.1\r\nHost: x\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}`,
      body,
    );
    expect(response.status).toBe(202);
    expect((await proxy.finished(JSON.parse(response.body).task_id)).status).toBe('completed');
    expect(target.seen).toEqual([{ method, contentType, body }]);
  });

  it('still answers 413 for a body over the limit', async () => {
    const target = await recordingTarget(recorded);
    const proxy = await startProxy(target.url, { listen: true, flags: ['--body-limit', '4'] });
    const response = await rawRequest(
      proxy.url,
      'POST /api/x HTTP/1.1\r\nHost: x\r\nContent-Type: foo\r\nContent-Length: 5',
      'hello',
    );
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body)).toMatchObject({ success: false, error: 'payload_too_large' });
    expect(target.seen).toEqual([]);
  });
});
