import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startProxy, startTarget } from '../helper.js';

/**
 * Sends only the head of a request and reads what comes back before any body is sent: up to the
 * end of the first head, or with `final` of the first final answer's (a `100 Continue` before it
 * kept in the text).
 */
function headOnly(url: string, head: string, final = false): Promise<string> {
  const { hostname, port } = new URL(url);
  const ended = final ? /HTTP\/1\.1 [2-5]\d\d [\s\S]*?\r\n\r\n/ : /\r\n\r\n/;
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(`${head}\r\n\r\n`));
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (ended.test(text)) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', reject);
  });
}

/**
 * Sends the head of a request, its body once "100 Continue" invites it, and reads until the
 * proxy closes the connection (the request asks it to).
 */
function bodyOnceInvited(url: string, head: string, body: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(`${head}\r\n\r\n`));
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      const invited = !text.includes('100 Continue');
      text += chunk.toString('utf8');
      if (invited && text.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) socket.write(body);
    });
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('Expect: 100-continue with a body over the limit', () => {
  // curl asks before any body over 1 MiB; the proxy said "100 Continue", took megabytes, then
  // answered 413 mid-stream, and curl often saw a broken pipe instead of the answer.
  it('answers 413 before the client sends the body, and 100 Continue to one within the limit', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true, flags: ['--body-limit', '1mb'] });
    const refused = await headOnly(
      proxy.url,
      'POST /api/echo HTTP/1.1\r\nHost: proxy\r\nContent-Length: 20000000\r\nExpect: 100-continue',
    );
    expect(refused).toMatch(/^HTTP\/1\.1 413 /);
    expect(refused.toLowerCase()).toContain('connection: close');
    const invited = await headOnly(
      proxy.url,
      'POST /api/echo HTTP/1.1\r\nHost: proxy\r\nContent-Length: 10\r\nExpect: 100-continue',
    );
    expect(invited).toMatch(/^HTTP\/1\.1 100 Continue/);
    // Hostile-caller pass: the router takes the absolute form to /api/ too; it was told
    // "takes no body".
    const absolute = await headOnly(
      proxy.url,
      'POST http://proxy/api/echo HTTP/1.1\r\nHost: proxy\r\nContent-Length: 20000000\r\nExpect: 100-continue',
    );
    expect(absolute).toMatch(/^HTTP\/1\.1 413 /);
  });

  // Review: a retry sent such a body was told to mind --body-limit, which no body could pass.
  it('answers a route that takes no body with its own 400, not the submissions’ limit', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true, flags: ['--body-limit', '1mb'] });
    const refused = await headOnly(
      proxy.url,
      `POST /task/${randomUUID()}/retry HTTP/1.1\r\nHost: proxy\r\nContent-Length: 20000000\r\nExpect: 100-continue`,
    );
    expect(refused).toMatch(/^HTTP\/1\.1 400 /);
  });
});

describe('Expect: 100-continue without the API key', () => {
  // The proxy said "100 Continue" before the key was checked: the client sent its whole body,
  // megabytes perhaps, to be told 401 after.
  it('answers 401 before the client sends the body, and 100 Continue with the key', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true, flags: ['--api-key', 'k-123'] });
    const head =
      'POST /api/echo HTTP/1.1\r\nHost: proxy\r\nContent-Length: 10\r\nExpect: 100-continue';
    const refused = await headOnly(proxy.url, head);
    expect(refused).toMatch(/^HTTP\/1\.1 401 /);
    expect(refused.toLowerCase()).toContain('www-authenticate: bearer');
    const wrongKey = await headOnly(proxy.url, `${head}\r\nAuthorization: Bearer nope`);
    expect(wrongKey).toMatch(/^HTTP\/1\.1 401 /);
    const invited = await headOnly(proxy.url, `${head}\r\nAuthorization: Bearer k-123`);
    expect(invited).toMatch(/^HTTP\/1\.1 100 Continue/);
    // The router decodes the path: /%61pi/ is /api/.
    const encoded = await headOnly(proxy.url, head.replace('/api/', '/%61pi/'));
    expect(encoded).toMatch(/^HTTP\/1\.1 401 /);
    const absolute = await headOnly(proxy.url, head.replace('/api/', 'http://proxy/api/'));
    expect(absolute).toMatch(/^HTTP\/1\.1 401 /);
    // As without Expect, the key comes first: the limit is none of a keyless caller's business.
    const large = await headOnly(
      proxy.url,
      head.replace('Content-Length: 10', 'Content-Length: 999999999'),
    );
    expect(large).toMatch(/^HTTP\/1\.1 401 /);
  });
});

describe('Expect: 100-continue on a path the proxy refuses', () => {
  // Review: such a submission was invited ("100 Continue"), its body sent whole, then refused;
  // over the limit it was told 413, though the path alone decides.
  it.each([
    ['Content-Length: 10', '/api/../echo'],
    ['Content-Length: 999999999', '/api/a/../echo'],
    ['Content-Length: 10', '/%61pi/echo'],
  ])('%s, %s: 400 before the body, after the key', async (length, path) => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true, flags: ['--api-key', 'k-123'] });
    const head = `POST ${path} HTTP/1.1\r\nHost: proxy\r\n${length}\r\nExpect: 100-continue`;
    expect(await headOnly(proxy.url, head)).toMatch(/^HTTP\/1\.1 401 /);
    const refused = await headOnly(proxy.url, `${head}\r\nAuthorization: Bearer k-123`);
    expect(refused).toMatch(/^HTTP\/1\.1 400 /);
  });
});

/** No task has it: a fixed id keeps the test names the same from run to run. */
const NO_TASK = '00000000-0000-4000-8000-000000000000';

describe('Expect: 100-continue with a body on a route that takes none', () => {
  // Such a route refuses any body: the proxy said "100 Continue", let the client send it, then
  // refused. Its 400 comes at once now, and the body is never invited (RFC 9110 §10.1.1).
  it.each([
    ['GET', '/tasks', 'Content-Length: 10'],
    ['GET', '/stats', 'Content-Length: 10'],
    ['DELETE', `/task/${NO_TASK}`, 'Content-Length: 10'],
    ['POST', `/task/${NO_TASK}/retry`, 'Content-Length: 10'],
    ['DELETE', '/tasks/cleanup', 'Transfer-Encoding: chunked'],
  ])('%s %s with %s: 400 before the body, not 100 Continue', async (method, path, framing) => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const refused = await headOnly(
      proxy.url,
      `${method} ${path} HTTP/1.1\r\nHost: proxy\r\n${framing}\r\nExpect: 100-continue`,
    );
    expect(refused).toMatch(/^HTTP\/1\.1 400 /);
    expect(refused.toLowerCase()).toContain('connection: close');
  });

  // A path that is no route: its 404 names the route meant, which the proxy can only say once it
  // routes the request, so the body is invited (a small one: a body over the limit is not).
  it('POST /function1 with a body: invited, then 404 naming /api/function1', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const answer = await bodyOnceInvited(
      proxy.url,
      'POST /function1 HTTP/1.1\r\nHost: proxy\r\nContent-Length: 5\r\nConnection: close\r\nExpect: 100-continue',
      'hello',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 404 /);
    expect(answer).toContain('POST /api/function1');
  });

  // Those routes take an empty body: Expect alone must not cost them their answer.
  it.each([
    ['GET', '/stats', 200],
    ['DELETE', '/tasks/cleanup', 200],
    ['DELETE', `/task/${NO_TASK}`, 404],
    ['POST', `/task/${NO_TASK}/retry`, 404],
  ])('%s %s with Content-Length: 0 is invited, then answered %i', async (method, path, status) => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const answer = await headOnly(
      proxy.url,
      `${method} ${path} HTTP/1.1\r\nHost: proxy\r\nContent-Length: 0\r\nExpect: 100-continue`,
      true,
    );
    expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 100 Continue\r\n\r\nHTTP/1\\.1 ${status} `));
  });
});
