import { type DataBody, type Stats, TASK_STATUSES, type TaskList } from 'proxy-client/wire';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startProxy, startTarget } from './helper.js';

const HOUR_MS = 3_600_000;

afterEach(() => {
  vi.useRealTimers();
});

describe('DELETE /tasks/cleanup', () => {
  it('removes only finished tasks older than the age; pending and processing survive; stats and list agree', async () => {
    // Only Date is faked, and it keeps ticking: timers and sockets stay real.
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const target = await startTarget();
    const proxy = await startProxy(target.url, {
      listen: true,
      flags: ['--max-concurrent', '1', '--num-workers', '1'],
    });
    const old = [await proxy.submit('/api/function1'), await proxy.submit('/api/fail?status=500')];
    for (const id of old) await proxy.finished(id);

    vi.setSystemTime(Date.now() + 3 * HOUR_MS);
    const recent = [
      await proxy.submit('/api/function1'),
      await proxy.submit('/api/fail?status=400'),
    ];
    for (const id of recent) await proxy.finished(id);
    const processing = await proxy.submit('/api/function1?delay_ms=3000');
    const pending = await proxy.submit('/api/function1');

    const cleanup = async (query: string) => {
      const response = await fetch(`${proxy.url}/tasks/cleanup${query}`, { method: 'DELETE' });
      expect(response.status).toBe(200);
      return ((await response.json()) as DataBody<{ removed: number }>).data.removed;
    };
    expect(await cleanup('')).toBe(0);
    expect(await cleanup('?max_age_hours=2')).toBe(2);
    for (const id of old) expect((await fetch(`${proxy.url}/task/${id}`)).status).toBe(404);
    for (const id of [...recent, processing, pending]) {
      expect((await fetch(`${proxy.url}/task/${id}`)).status).toBe(200);
    }
    expect((await proxy.getTask(processing)).status).toBe('processing');
    expect((await proxy.getTask(pending)).status).toBe('pending');
    await expectStatsAgreeWithList(proxy.url, {
      pending: 1,
      processing: 1,
      completed: 1,
      failed: 1,
      cancelled: 0,
      expired: 0,
      total: 4,
    });

    expect(await cleanup('?max_age_hours=0')).toBe(2);
    await expectStatsAgreeWithList(proxy.url, {
      pending: 1,
      processing: 1,
      completed: 0,
      failed: 0,
      cancelled: 0,
      expired: 0,
      total: 2,
    });
    const stats = await getJson<Stats>(`${proxy.url}/stats`);
    expect(stats.totals).toMatchObject({ submitted: 6, removed: 4 });
  });

  it.each([
    ['?status=failed', 'status'],
    ['?max_age_hour=1', 'max_age_hour'],
    ['?max_age_hours=0&dry_run=1', 'dry_run'],
  ])('refuses %s, removing nothing: a parameter it does not take is named', async (query, name) => {
    const target = await startTarget();
    const proxy = await startProxy(target.url);
    const id = await proxy.submit('/api/function1');
    await proxy.finished(id);
    const response = await proxy.app.inject({ method: 'DELETE', url: `/tasks/cleanup${query}` });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      success: false,
      error: 'invalid_query',
      message: `DELETE /tasks/cleanup takes only max_age_hours, got '${name}': it removes every finished task older than that, whatever its status`,
    });
    expect((await proxy.getTask(id)).status).toBe('completed');
  });
});

describe('retention', () => {
  it('removes finished tasks automatically once they are older than --retention', async () => {
    const target = await startTarget();
    // 0.0003 h ≈ 1.1 s; the sweep runs every second.
    const proxy = await startProxy(target.url, { listen: true, flags: ['--retention', '0.0003'] });
    const id = await proxy.submit('/api/function1');
    await proxy.finished(id);
    const started = Date.now();
    await vi.waitFor(
      async () => expect((await fetch(`${proxy.url}/task/${id}`)).status).toBe(404),
      { timeout: 5_000, interval: 100 },
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const stats = await getJson<Stats>(`${proxy.url}/stats`);
    expect(stats.tasks.total).toBe(0);
    expect(stats.totals.removed).toBe(1);
  });
});

describe('--max-tasks', () => {
  it('refuses a task when none has finished to make room, naming --max-tasks, not the queue', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, {
      listen: true,
      flags: [
        '--store',
        'memory',
        '--max-tasks',
        '2',
        '--max-concurrent',
        '1',
        '--num-workers',
        '1',
      ],
    });
    await proxy.submit('/api/long?seconds=30');
    await proxy.submit('/api/long?seconds=30');
    const refused = await fetch(`${proxy.url}/api/function1`, { method: 'POST' });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    const body = (await refused.json()) as { error: string; message: string };
    expect(body.error).toBe('queue_full');
    expect(body.message).toMatch(
      /^The proxy holds its most tasks \(--max-tasks 2\) and too few have finished to make room; retry in about \d+ s$/,
    );
    expect((await getJson<Stats>(`${proxy.url}/stats`)).totals.rejected_queue_full).toBe(1);
  });
});

async function getJson<T>(url: string): Promise<T> {
  return ((await (await fetch(url)).json()) as DataBody<T>).data;
}

async function expectStatsAgreeWithList(url: string, expected: Stats['tasks']): Promise<void> {
  const stats = await getJson<Stats>(`${url}/stats`);
  expect(stats.tasks).toEqual(expected);
  expect((await getJson<TaskList>(`${url}/tasks?limit=1000`)).total).toBe(expected.total);
  for (const status of TASK_STATUSES) {
    const list = await getJson<TaskList>(`${url}/tasks?status=${status}&limit=1000`);
    expect(list.total).toBe(expected[status]);
    expect(list.tasks.length).toBe(expected[status]);
  }
}
