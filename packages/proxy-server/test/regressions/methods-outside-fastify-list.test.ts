import { type IncomingMessage, METHODS } from 'node:http';
import { describe, expect, it } from 'vitest';
import { rawRequest, recordingTarget, startProxy, tasksSubmitted } from '../helper.js';

// Hostile-input audit: PROPFIND, MKCOL, PURGE, M-SEARCH and every other method outside Fastify's
// default list got 404 on /api/* (QUERY without a Content-Type got 400), while the SPEC forwards
// `ANY /api/*`. Every method Node parses now becomes a task, body and all, and reaches the target
// with that method.

/** What the target keeps of each request. */
const recorded = (req: IncomingMessage, body: string) => ({
  method: req.method ?? '',
  url: req.url ?? '',
  body,
});

/** A HEAD answer has no body: the task id is in Location. */
function taskIdOf(head: string): string {
  return /^location: \/task\/(\S+)$/im.exec(head)?.[1] ?? '';
}

// CONNECT asks for a tunnel (refused elsewhere); TRACE may have no body.
const WITH_BODY = METHODS.filter((method) => method !== 'CONNECT' && method !== 'TRACE');

describe('a submission with a method Fastify does not know by default', () => {
  it('covers the methods the audit found', () => {
    for (const method of ['PROPFIND', 'MKCOL', 'PURGE', 'M-SEARCH', 'QUERY', 'MKCALENDAR']) {
      expect(WITH_BODY).toContain(method);
    }
  });

  it.each(WITH_BODY)(
    '%s /api/* with a body is a task the target gets with that method',
    async (method) => {
      const target = await recordingTarget(recorded);
      const proxy = await startProxy(target.url, { listen: true });
      const body = '<?xml version="1.0"?><propfind xmlns="DAV:"><allprop/></propfind>';
      const response = await rawRequest(
        proxy.url,
        `${method} /api/dav/folder?depth=1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\nContent-Length: ${body.length}`,
        body,
      );
      expect(response.status).toBe(202);
      expect((await proxy.finished(taskIdOf(response.head))).status).toBe('completed');
      expect(target.seen).toEqual([{ method, url: '/api/dav/folder?depth=1', body }]);
    },
  );

  it.each(['PROPFIND', 'QUERY', 'UNLOCK'])(
    '%s /api/* without a body or a Content-Type is a task too',
    async (method) => {
      const target = await recordingTarget(recorded);
      const proxy = await startProxy(target.url, { listen: true });
      const response = await rawRequest(proxy.url, `${method} /api/x HTTP/1.1\r\nHost: x`);
      expect(response.status).toBe(202);
      const task = await proxy.finished(JSON.parse(response.body).task_id);
      expect(task).toMatchObject({ status: 'completed', method, path: '/api/x' });
      expect(target.seen).toEqual([{ method, url: '/api/x', body: '' }]);
    },
  );

  it('a browser may send: a CORS preflight for PROPFIND allows it', async () => {
    const target = await recordingTarget(recorded);
    const proxy = await startProxy(target.url, {
      listen: true,
      flags: ['--cors-origin', 'https://app.example'],
    });
    const preflight = await fetch(`${proxy.url}/api/dav`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'PROPFIND' },
    });
    expect(preflight.status).toBe(204);
    const allowed = (preflight.headers.get('access-control-allow-methods') ?? '').split(/,\s*/);
    expect(allowed).toContain('PROPFIND');
    expect(allowed).toContain('QUERY');
    expect(allowed).not.toContain('CONNECT');
    expect(target.seen).toEqual([]);
  });

  it('on a route of the proxy itself, is the 405 envelope and no task', async () => {
    const target = await recordingTarget(recorded);
    const proxy = await startProxy(target.url, { listen: true });
    const response = await rawRequest(proxy.url, 'PROPFIND /stats HTTP/1.1\r\nHost: x');
    expect(response.status).toBe(405);
    expect(JSON.parse(response.body)).toEqual({
      success: false,
      error: 'method_not_allowed',
      message: 'PROPFIND /stats: this route takes GET, HEAD',
    });
    expect(await tasksSubmitted(proxy.url)).toBe(0);
    expect(target.seen).toEqual([]);
  });
});
