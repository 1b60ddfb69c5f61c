import { type AddressInfo, createServer } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startProxy } from '../helper.js';

// Hostile-upstream pass: a status line with a status below 100 (`HTTP/1.1 099`, `HTTP/1.1 000`),
// which the parser takes, failed the task with undici's internal assertion as its message,
// across lines: "ERR_ASSERTION: The expression evaluated to a falsy value: assert(statusCode >=
// 100)". It now names the status the target sent.

describe('a target answering a status below 100', () => {
  it.each(['099', '000'])('%s: upstream_error naming the status, on one line', async (status) => {
    const target = createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () =>
        socket.end(`HTTP/1.1 ${status} Odd\r\nContent-Length: 2\r\n\r\nok`),
      );
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => target.close(() => resolve())));
    const { port } = target.address() as AddressInfo;
    const proxy = await startProxy(`http://127.0.0.1:${port}`, { listen: true });
    const task = await proxy.finished(await proxy.submit('/api/x'));
    expect(task.status).toBe('failed');
    expect(task.error?.code).toBe('upstream_error');
    expect(task.error?.message).toContain(`the target answered status ${status}`);
    expect(task.error?.message).not.toContain('\n');
    expect(task.result).toBeNull();
  });
});
