import type { Socket } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { rawRequest, rawTarget, startProxy } from '../helper.js';

// Hostile-upstream pass: a target that declared `Content-Length: 999999999999`, over
// --result-size-limit, then stalled kept its task `processing` until --upstream-timeout (forever
// without one), its call holding a slot: the limit was checked only on the bytes that came. A
// declared length over the limit now fails the task `result_too_large` as the headers arrive.

const HUGE = 'HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\nhel';
const FLAGS = ['--result-size-limit', '1kb', '--max-concurrent', '1'];

describe('an answer whose Content-Length is over the result size limit', () => {
  it('fails result_too_large at its headers, and frees the call for the next task', async () => {
    const stalled: Socket[] = [];
    const target = await rawTarget((socket) => {
      if (stalled.length > 0) {
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
        return;
      }
      stalled.push(socket);
      socket.write(HUGE);
    });
    const proxy = await startProxy(target, { listen: true, flags: FLAGS });
    const big = await proxy.finished(await proxy.submit('/api/big'));
    expect(big.status).toBe('failed');
    expect(big.error?.code).toBe('result_too_large');
    expect(big.error?.message).toContain('Content-Length declares 999999999999 bytes');
    await vi.waitFor(() => expect(stalled[0]?.destroyed).toBe(true));
    const next = await proxy.finished(await proxy.submit('/api/small'));
    expect(next.status).toBe('completed');
  });

  // These carry no body, whatever their Content-Length says: nothing to be too large.
  it.each([
    ['HEAD', '200 OK'],
    ['GET', '204 No Content'],
  ])('%s answered %s completes', async (method, status) => {
    const target = await rawTarget((socket) =>
      socket.write(`HTTP/1.1 ${status}\r\nContent-Length: 999999999999\r\n\r\n`),
    );
    const proxy = await startProxy(target, { listen: true, flags: FLAGS });
    const response = await rawRequest(proxy.url, `${method} /api/x HTTP/1.1\r\nHost: x`);
    // A HEAD answer has no body: the id is in Location.
    const id = /^location: \/task\/(\S+)$/im.exec(response.head)?.[1] ?? '';
    expect((await proxy.finished(id)).status).toBe('completed');
  });
});
