import { createServer, type Server } from 'node:http';
import {
  type AddressInfo,
  createServer as createNetServer,
  type Server as NetServer,
} from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startProxy } from '../helper.js';

// Hostile-upstream pass: a target that sent an interim `100 Continue` before its 200 (RFC 9110
// has a client skip it) failed the task `upstream_reset`, "reset or closed before the answer
// (UND_ERR_SOCKET: bad response)": undici refuses a 100 outright. The target had done the job,
// and with `--retry-on reset` it was called again on every attempt. A 101 to a plain request
// was reported the same way. Both now fail `upstream_error`, saying which answer it was.

async function listening(server: Server | NetServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => {
    if ('closeAllConnections' in server) server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as AddressInfo).port;
}

const RETRY_RESETS = ['--retry-on', 'reset', '--max-attempts', '3', '--retry-min-delay', '0.01'];

describe('an interim answer the HTTP client will not read past', () => {
  it('100 Continue before a 200: upstream_error naming it, and no retry as a reset', async () => {
    let calls = 0;
    const port = await listening(
      createServer((request, response) => {
        calls++;
        request.resume();
        request.on('end', () => {
          response.writeContinue();
          response.end('done');
        });
      }),
    );
    const proxy = await startProxy(`http://127.0.0.1:${port}`, {
      listen: true,
      flags: RETRY_RESETS,
    });
    const task = await proxy.finished(await proxy.submit('/api/job', { body: '{"a":1}' }));
    expect(task.status).toBe('failed');
    expect(task.error?.code).toBe('upstream_error');
    expect(task.error?.message).toContain('100 Continue');
    expect(task.attempts).toBe(1);
    expect(calls).toBe(1);
  });

  // Review: without both headers undici took the 101 for an interim answer, and failed the call
  // on an assertion of its own, across lines.
  it.each([
    ['with Upgrade and Connection: upgrade', 'Upgrade: websocket\r\nConnection: Upgrade\r\n'],
    ['with Upgrade alone', 'Upgrade: h2c\r\n'],
    ['bare', ''],
  ])(
    '101 Switching Protocols to a plain request, %s: upstream_error naming it',
    async (_how, headers) => {
      const target = createNetServer((socket) => {
        socket.on('error', () => {});
        socket.once('data', () => socket.end(`HTTP/1.1 101 Switching Protocols\r\n${headers}\r\n`));
      });
      const port = await listening(target);
      const proxy = await startProxy(`http://127.0.0.1:${port}`, {
        listen: true,
        flags: RETRY_RESETS,
      });
      const task = await proxy.finished(await proxy.submit('/api/job'));
      expect(task.error?.code).toBe('upstream_error');
      expect(task.error?.message).toContain('101 Switching Protocols');
      expect(task.error?.message).not.toContain('\n');
      expect(task.attempts).toBe(1);
    },
  );
});
