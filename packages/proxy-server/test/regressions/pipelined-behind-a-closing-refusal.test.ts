import { describe, expect, it, onTestFinished } from 'vitest';
import {
  recordingTarget,
  stalledRequest,
  startProxy,
  startTarget,
  statusesOf,
  tasksSubmitted,
} from '../helper.js';

// Hostile-input pass: a refusal that closes the connection (a body where none may be, an
// Expect the proxy cannot meet) was answered alone, yet a submission pipelined behind it on the
// same connection was admitted and run: its caller never got the task id, and would send it
// again.

const PIPELINED = 'POST /api/pipelined HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi';

describe('a submission pipelined behind a refusal that closes the connection', () => {
  it.each([
    [
      'a GET of /stats with a body',
      'GET /stats HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc',
      400,
    ],
    [
      'an unknown route with a body',
      'GET /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc',
      404,
    ],
    [
      'an Expect the proxy cannot meet',
      'POST /api/x HTTP/1.1\r\nHost: x\r\nExpect: foo\r\nContent-Length: 3\r\n\r\nabc',
      417,
    ],
  ])('%s: one answer, and no task', async (_what, first, status) => {
    const target = await recordingTarget((request) => request.url);
    const proxy = await startProxy(target.url, { listen: true, flags: ['--store', 'memory'] });
    const answer = await stalledRequest(proxy.url, first + PIPELINED);

    const statuses = statusesOf(answer);
    expect(statuses).toEqual([status]);
    expect(await tasksSubmitted(proxy.url)).toBe(0);
    expect(target.seen).toEqual([]);
  });

  it('a retry pipelined behind one: no new task either', async () => {
    const target = await recordingTarget((request) => request.url);
    const proxy = await startProxy(target.url, { listen: true, flags: ['--store', 'memory'] });
    const id = await proxy.submit('/api/once');
    await proxy.finished(id);
    const answer = await stalledRequest(
      proxy.url,
      `GET /stats HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcPOST /task/${id}/retry HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    expect(answer.status).toBe(400);
    expect(await tasksSubmitted(proxy.url)).toBe(1);
    expect((await proxy.getTask(id)).retried_as).toBeNull();
  });

  it('a cancel or a cleanup pipelined behind one: nothing changes', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true, flags: ['--store', 'memory'] });
    const done = await proxy.submit('/api/echo');
    await proxy.finished(done);
    const refusal = 'GET /stats HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc';
    const cleanup = await stalledRequest(
      proxy.url,
      `${refusal}DELETE /tasks/cleanup?max_age_hours=0 HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    expect(cleanup.status).toBe(400);
    expect((await proxy.getTask(done)).status).toBe('completed');
    const running = await proxy.submit('/api/long?seconds=30');
    const cancel = await stalledRequest(
      proxy.url,
      `${refusal}DELETE /task/${running} HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    expect(cancel.status).toBe(400);
    expect((await proxy.getTask(running)).status).not.toBe('cancelled');
    expect(await tasksSubmitted(proxy.url)).toBe(2);
  });

  it('many behind a held read wait their turn: each answered, no listener piled up', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    onTestFinished(() => {
      process.off('warning', onWarning);
    });
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true, flags: ['--store', 'memory'] });
    const long = await proxy.submit('/api/long?seconds=30');
    const held = `GET /task/${long}?wait=1 HTTP/1.1\r\nHost: x\r\n\r\n`;
    const submissions = Array.from({ length: 12 }, () => PIPELINED).join('');
    const answer = await stalledRequest(
      proxy.url,
      held + submissions + 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    const statuses = statusesOf(answer);
    expect(statuses).toEqual([200, ...Array.from({ length: 12 }, () => 202), 200]);
    expect(warnings).toEqual([]);
  });

  it('one that keeps the connection open: the submission behind it gets its 202', async () => {
    const target = await recordingTarget((request) => request.url);
    const proxy = await startProxy(target.url, { listen: true, flags: ['--store', 'memory'] });
    const answer = await stalledRequest(
      proxy.url,
      `GET /task/nope HTTP/1.1\r\nHost: x\r\n\r\n${PIPELINED.replace('Host: x', 'Host: x\r\nConnection: close')}`,
    );
    const statuses = statusesOf(answer);
    expect(statuses).toEqual([400, 202]);
    expect(await tasksSubmitted(proxy.url)).toBe(1);
  });
});
