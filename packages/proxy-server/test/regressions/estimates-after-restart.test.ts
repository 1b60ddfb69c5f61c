import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataBody, Stats, SubmitBody, Task } from 'proxy-client/wire';
import { startSlowTarget } from 'slow-target';
import { spawnProxyServer, waitFor } from 'test-support';
import { describe, expect, it, onTestFinished } from 'vitest';

const getJson = async <T>(url: string): Promise<T> =>
  ((await (await fetch(url)).json()) as DataBody<T>).data;

// Review (hour-long calls at 60× speed): after a restart the mean processing time started
// empty, so a task queued behind a call just started again was estimated by that call's age:
// "starts in 9 s" behind an hour-long call, sliding forward all hour.
describe('queue estimates after a restart on the SQLite store', () => {
  it('go by the calls the store completed before it', { timeout: 30_000 }, async () => {
    const target = await startSlowTarget();
    onTestFinished(() => target.close());
    const dataDir = await mkdtemp(join(tmpdir(), 'proxy-estimates-'));
    onTestFinished(() => rm(dataDir, { recursive: true, force: true }));
    const start = async () => {
      const proxy = await spawnProxyServer({
        args: [
          ...['--target-url', target.url, '--data-dir', dataDir],
          ...['--max-concurrent', '1', '--num-workers', '1', '--log-level', 'warn'],
        ],
      });
      onTestFinished(async () => {
        await proxy.stop('SIGKILL');
      });
      return proxy;
    };
    const submit = async (url: string, path: string) =>
      ((await (await fetch(url + path, { method: 'POST' })).json()) as SubmitBody).task_id;

    const first = await start();
    for (let n = 0; n < 2; n++) await submit(first.url, `/api/text?text=t${n}&delay_ms=2000`);
    await waitFor(async () => (await getJson<Stats>(`${first.url}/stats`)).tasks.completed === 2, {
      timeoutMs: 15_000,
      what: 'two calls of 2 s to complete',
    });
    expect(await first.stop('SIGTERM')).toEqual({ code: 0, signal: null });

    const second = await start();
    const mean = (await getJson<Stats>(`${second.url}/stats`)).avg_processing_ms;
    expect(mean).toBeGreaterThanOrEqual(2_000);
    expect(mean).toBeLessThan(3_000);
    // A call just started, one queued behind it: its start is a mean away, less the call's age.
    await submit(second.url, '/api/text?text=running&delay_ms=10000');
    await waitFor(() => target.stats().inFlight === 1, { what: 'the call to start' });
    const seenRunningAt = Date.now();
    const queuedId = await submit(second.url, '/api/text');
    const queued = await getJson<Task>(`${second.url}/task/${queuedId}`);
    expect(queued).toMatchObject({ status: 'pending', queue_position: 1 });
    const waitMs = Date.parse(queued.estimated_start_at ?? '') - Date.now();
    expect(waitMs).toBeLessThanOrEqual(mean ?? 0);
    expect(waitMs).toBeGreaterThan((mean ?? 0) - (Date.now() - seenRunningAt) - 500);
  });
});
