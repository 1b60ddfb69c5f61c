import { connect, type Socket } from 'node:net';
import type { DataBody, SubmitBody, Task } from 'proxy-client/wire';
import { spawnProxyServer, waitFor } from 'test-support';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startTarget } from '../helper.js';

function openSocket(url: string, send?: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => {
      if (send) socket.write(send);
      resolve(socket);
    });
    socket.on('error', () => undefined);
    onTestFinished(() => {
      socket.destroy();
    });
  });
}

describe('SIGTERM with clients that hold connections', () => {
  // One client that connected and said nothing turned SIGTERM into exit 1 after grace + 10 s.
  it('exits 0 at once past silent, idle and waiting clients', async () => {
    const target = await startTarget();
    const proxy = await spawnProxyServer({
      args: [
        '--target-url',
        target.url,
        '--shutdown-grace',
        '5',
        '--max-concurrent',
        '1',
        '--num-workers',
        '1',
      ],
    });
    await openSocket(proxy.url);
    await openSocket(proxy.url, 'GET /health HTTP/1.1\r\nHost: proxy\r\n\r\n');
    const submit = async (path: string) =>
      ((await (await fetch(proxy.url + path, { method: 'POST' })).json()) as SubmitBody).task_id;
    await submit('/api/function1?delay_ms=300');
    const queued = await submit('/api/text?text=later');
    await waitFor(() => target.stats().inFlight === 1, { what: 'the call to start' });
    const waiting = fetch(`${proxy.url}/task/${queued}?wait=60`).then(
      async (response) => ((await response.json()) as DataBody<Task>).data,
    );
    const started = Date.now();
    expect(await proxy.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    // The call in flight finished in its grace; the queued task stays queued in the SQLite
    // store, and the waiting read answers with it as it is rather than holding the exit.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await waiting).toMatchObject({ task_id: queued, status: 'pending' });
    expect(target.stats().byPath['/api/function1']).toBe(1);
    expect(target.stats().byPath['/api/text']).toBeUndefined();
  });

  // With nothing outliving the process, queued tasks stayed `pending` for the whole grace and
  // turned `interrupted` just before exit, so a poller never saw how they ended.
  it('fails queued tasks interrupted as soon as the shutdown begins, on the memory store', async () => {
    const target = await startTarget();
    const proxy = await spawnProxyServer({
      args: [
        '--target-url',
        target.url,
        '--store',
        'memory',
        '--shutdown-grace',
        '30',
        '--max-concurrent',
        '1',
        '--num-workers',
        '1',
      ],
    });
    const submit = async (path: string) =>
      ((await (await fetch(proxy.url + path, { method: 'POST' })).json()) as SubmitBody).task_id;
    await submit('/api/function1?delay_ms=1500');
    const queued = await submit('/api/text');
    await waitFor(() => target.stats().inFlight === 1, { what: 'the call to start' });
    const stopped = proxy.stop('SIGTERM');
    const read = async () =>
      ((await (await fetch(`${proxy.url}/task/${queued}`)).json()) as DataBody<Task>).data;
    const ended = await waitFor(
      async () => {
        const task = await read();
        return task.status === 'failed' ? task : undefined;
      },
      { what: 'the queued task to end' },
    );
    expect(ended).toMatchObject({ error: { code: 'interrupted' }, started_at: null });
    expect(target.stats().inFlight).toBe(1);
    expect(await stopped).toEqual({ code: 0, signal: null });
  });
});
