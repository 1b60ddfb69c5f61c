import { IDEMPOTENT_REPLAYED_HEADER } from 'proxy-client/wire';
import { describe, expect, it } from 'vitest';
import { rawRequest, startProxy, startTarget, tasksSubmitted } from '../helper.js';

// Hostile-input audit: Node joins a header sent twice into one value ("a, b"), so two
// `Idempotency-Key` headers passed for the key "a, b", and two `X-Proxy-*` headers for one bad
// value, while the docs promise 400 for several. Repeats are now read from the raw header lines,
// whatever the case of their names.

async function submitWith(headerLines: string[], flags: string[] = []) {
  const target = await startTarget();
  const proxy = await startProxy(target.url, { listen: true, flags });
  const response = await rawRequest(
    proxy.url,
    ['POST /api/text HTTP/1.1', 'Host: x', 'Content-Length: 0', ...headerLines].join('\r\n'),
  );
  return { proxy, target, response };
}

describe('a header the proxy reads sent more than once', () => {
  it.each([
    [['Idempotency-Key: a', 'Idempotency-Key: b'], 'Idempotency-Key'],
    [['Idempotency-Key: a', 'idempotency-KEY: a'], 'Idempotency-Key'],
    [['X-Proxy-Priority: high', 'x-proxy-priority: high'], 'X-Proxy-Priority'],
    [['X-Proxy-Max-Attempts: 1', 'X-Proxy-Max-Attempts: 2'], 'X-Proxy-Max-Attempts'],
    [['X-Proxy-Max-Queue-Time: 5', 'X-Proxy-Max-Queue-Time: 5'], 'X-Proxy-Max-Queue-Time'],
    [['X-Proxy-Timeout: 5', 'X-PROXY-TIMEOUT: 6'], 'X-Proxy-Timeout'],
    [
      ['X-Proxy-Callback-Url: http://a.test/', 'X-Proxy-Callback-Url: http://b.test/'],
      'X-Proxy-Callback-Url',
    ],
  ])('%j: 400 naming %s, no task', async (lines, name) => {
    const { proxy, target, response } = await submitWith(lines);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      success: false,
      error: 'bad_request',
      message: `Send one ${name} header, not several`,
    });
    expect(await tasksSubmitted(proxy.url)).toBe(0);
    expect(target.stats().requests).toBe(0);
  });

  it('the tenant header of --fair-key header:X-Tenant twice: 400 naming it', async () => {
    const { proxy, response } = await submitWith(
      ['X-Tenant: a', 'X-Tenant: b'],
      ['--fair-key', 'header:X-Tenant'],
    );
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      success: false,
      error: 'bad_request',
      message: 'Send one X-Tenant header, not several',
    });
    expect(await tasksSubmitted(proxy.url)).toBe(0);
  });

  it('one Idempotency-Key whose value has a comma is one key, as before', async () => {
    const { proxy, response } = await submitWith(['Idempotency-Key: a, b']);
    expect(response.status).toBe(202);
    const again = await rawRequest(
      proxy.url,
      'POST /api/text HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nIdempotency-Key: a, b',
    );
    expect(again.status).toBe(202);
    expect(again.head).toMatch(new RegExp(`^${IDEMPOTENT_REPLAYED_HEADER}: true$`, 'im'));
    expect(JSON.parse(again.body).task_id).toBe(JSON.parse(response.body).task_id);
    expect(await tasksSubmitted(proxy.url)).toBe(1);
  });

  it('headers that may repeat still do: Prefer twice, and any forwarded header', async () => {
    const { proxy, response } = await submitWith([
      'Prefer: respond-async',
      'Prefer: wait=0',
      'X-Trace: 1',
      'X-Trace: 2',
    ]);
    expect(response.status).toBe(202);
    expect(response.head).toMatch(/^preference-applied: respond-async$/im);
    const task = await proxy.finished(JSON.parse(response.body).task_id);
    expect(task.status).toBe('completed');
  });
});
