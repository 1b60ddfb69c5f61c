import { connect } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { stalledRequest, startProxy, startTarget, statusesOf } from '../helper.js';

// Hostile-input pass: a valid submission followed on the same connection by bytes Node cannot
// parse got only the 400, while the submission was accepted and run. A client pairs answers
// with requests in order, so it took the 400 for its submission and would send it again.

const SUBMISSION = 'POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi';

describe('a malformed request pipelined behind a valid one', () => {
  it.each([
    [
      'headers too large',
      `GET /api/next HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
      'headers_too_large',
    ],
    ['bytes that are no request', 'EXTRA-GARBAGE\r\n\r\n', 400, 'bad_request'],
  ])('%s: the submission gets its 202 first, then the %i', async (_what, after, status, code) => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const answer = await stalledRequest(proxy.url, SUBMISSION + after);

    const statuses = statusesOf(answer);
    expect(statuses).toEqual([202, status]);
    const taskId = /"task_id":"([0-9a-f-]{36})"/.exec(answer.body)?.[1];
    expect(taskId).toBeDefined();
    expect((await proxy.finished(taskId ?? '')).status).toBe('completed');
    expect(answer.body).toMatch(new RegExp(`"error":"${code}","message":"[^"]+\\(HPE_\\w+\\)"`));
  });
});

describe('bytes that keep coming after the malformed ones, behind a held read', () => {
  it('are answered once: one 400 after the read, no listener per chunk', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    onTestFinished(() => {
      process.off('warning', onWarning);
    });
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const id = await proxy.submit('/api/long?seconds=30');
    const { hostname, port } = new URL(proxy.url);
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {});
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.write(`GET /task/${id}?wait=1 HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n`);
    for (let n = 0; n < 20 && !socket.destroyed; n++) {
      socket.write(`more ${n}\r\n`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await closed;
    const text = Buffer.concat(chunks).toString('utf8');
    expect([...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]))).toEqual([
      200, 400,
    ]);
    expect(warnings).toEqual([]);
  });
});
