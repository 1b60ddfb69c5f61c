import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  adaptivePollDelay,
  FIRST_POLL_DELAY_MS,
  JITTER_RATIO,
  MAX_OUTAGE_MS,
  outagePauseMs,
  ProxyClient,
  pollCeilingMs,
  type Task,
  withJitter,
} from '../src/index.js';
import { TASK_ID } from './helpers/fixtures.js';
import { simulateTask } from './helpers/simulated-task.js';
import { BASE_URL, createTestServer, useFakeClock } from './helpers/test-server.js';

describe('the pure schedule', () => {
  it('starts at 0.5 s and grows by half each poll', () => {
    expect([0, 1, 2, 3].map((attempt) => adaptivePollDelay(0, attempt))).toEqual([
      500, 750, 1125, 1688,
    ]);
    expect(FIRST_POLL_DELAY_MS).toBe(500);
  });

  it('never exceeds the fixed 2/5/10 s schedule for the task age', () => {
    for (let elapsed = 0; elapsed <= 3_600_000; elapsed += 13_000) {
      for (let attempt = 0; attempt < 40; attempt += 1) {
        expect(adaptivePollDelay(elapsed, attempt)).toBeLessThanOrEqual(pollCeilingMs(elapsed));
      }
    }
    expect([0, 59_999, 60_000, 299_999, 300_000, 86_400_000].map(pollCeilingMs)).toEqual([
      2000, 2000, 5000, 5000, 10_000, 10_000,
    ]);
  });

  it('settles on the ceiling once grown', () => {
    expect(adaptivePollDelay(30_000, 10)).toBe(2000);
    expect(adaptivePollDelay(120_000, 10)).toBe(5000);
    expect(adaptivePollDelay(900_000, 10)).toBe(10_000);
    expect(adaptivePollDelay(900_000, 10_000)).toBe(10_000);
  });

  it('treats a negative age or attempt as zero', () => {
    expect(adaptivePollDelay(-5000, -3)).toBe(500);
  });

  it('jitter only shortens, by at most JITTER_RATIO', () => {
    expect(withJitter(10_000, () => 0)).toBe(10_000);
    expect(withJitter(10_000, () => 0.5)).toBe(9500);
    expect(withJitter(10_000, () => 0.999_999)).toBe(9000);
    for (let i = 0; i < 1000; i += 1) {
      const delay = withJitter(2000);
      expect(delay).toBeLessThanOrEqual(2000);
      expect(delay).toBeGreaterThanOrEqual(2000 * (1 - JITTER_RATIO));
    }
  });

  it('pauses 250 ms after a proxy goes away, doubling to 10 s, and gives up after 5 minutes', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 1_000].map(outagePauseMs)).toEqual([
      250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000,
    ]);
    expect(outagePauseMs(-1)).toBe(250);
    expect(MAX_OUTAGE_MS).toBe(300_000);
  });
});

/**
 * What it costs to wait for a task, against the loop users write today: read, and if unfinished
 * sleep 2 s in the first minute, 5 s up to five minutes, 10 s after.
 */
describe('the cost of a wait, against the fixed schedule', () => {
  const server = createTestServer();
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  interface Cost {
    requests: number;
    /** Milliseconds from the task finishing to the caller having the result. */
    lagMs: number;
  }

  async function measure(durationMs: number, wait: () => Promise<Task>, waitMaxSeconds?: number) {
    const { route, finishesAt } = simulateTask(server, {
      durationMs,
      ...(waitMaxSeconds === undefined ? {} : { waitMaxSeconds }),
    });
    let doneAt = Number.NaN;
    const done = wait().then((task) => {
      doneAt = Date.now();
      return task;
    });
    await vi.advanceTimersByTimeAsync(durationMs + 60_000);
    expect((await done).status).toBe('completed');
    return { requests: route.calls.length, lagMs: doneAt - finishesAt } satisfies Cost;
  }

  async function fixedLoop(client: ProxyClient): Promise<Task> {
    const started = Date.now();
    for (;;) {
      const task = await client.getTask(TASK_ID);
      if (task.status === 'completed' || task.status === 'failed') return task;
      const elapsed = Date.now() - started;
      const interval = elapsed < 60_000 ? 2000 : elapsed < 300_000 ? 5000 : 10_000;
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  }

  // Durations a little past a round figure, so neither schedule lands on the finish by luck.
  const tasks = [
    ['30 s', 30_300],
    ['3 min', 180_300],
    ['12 min', 720_300],
  ] as const;
  const costs: Record<string, Record<string, Cost>> = {};

  it.each(tasks)(
    'a %s task: the waiting read costs fewer requests than the fixed schedule and answers sooner',
    async (name, durationMs) => {
      useFakeClock();
      const random = vi.spyOn(Math, 'random').mockReturnValue(0.5);
      const client = new ProxyClient({ baseUrl: BASE_URL });
      const fixed = await measure(durationMs, () => fixedLoop(client));
      const held = await measure(durationMs, () => client.waitForTask(TASK_ID), 60);
      const polled = await measure(durationMs, () => client.waitForTask(TASK_ID));
      random.mockReturnValue(0.999_999);
      const polledWorst = await measure(durationMs, () => client.waitForTask(TASK_ID));
      costs[name] = { fixed, held, polled };

      expect(held.requests).toBeLessThan(fixed.requests);
      expect(held.lagMs).toBeLessThan(fixed.lagMs);
      expect(held.lagMs).toBe(0);
      // Polling alone can never be slower than the fixed schedule, as no delay may exceed it; for
      // the same reason it costs a few requests more: the quick start, and jitter (5 % on average,
      // 10 % at worst).
      for (const cost of [polled, polledWorst]) {
        expect(cost.lagMs).toBeLessThanOrEqual(pollCeilingMs(durationMs));
        expect(cost.requests).toBeGreaterThanOrEqual(fixed.requests);
        expect(cost.requests).toBeLessThanOrEqual(Math.ceil(fixed.requests * 1.12) + 3);
      }
    },
  );

  it('a quick task is seen within a second, where the fixed schedule needs two', async () => {
    useFakeClock();
    const client = new ProxyClient({ baseUrl: BASE_URL });
    const fixed = await measure(300, () => fixedLoop(client));
    const polled = await measure(300, () => client.waitForTask(TASK_ID));
    expect(fixed.lagMs).toBe(1700);
    expect(polled.lagMs).toBeLessThanOrEqual(200);
    expect(polled.requests).toBe(fixed.requests);
  });

  // The figures docs/sdk.md quotes (jitter pinned at its average).
  afterAll(() => {
    const rows = Object.entries(costs).map(([task, { fixed, held, polled }]) => ({
      task,
      'fixed: requests': fixed?.requests,
      'fixed: lag ms': fixed?.lagMs,
      'waiting read: requests': held?.requests,
      'waiting read: lag ms': held?.lagMs,
      'polling: requests': polled?.requests,
      'polling: lag ms': polled?.lagMs,
    }));
    if (process.env['SHOW_POLL_COSTS']) console.table(rows);
  });
});
