import { describe, expect, it } from 'vitest';
import { screenAtExit, startHostileProxy } from '../e2e/hostile-proxy.js';
import { makeTask } from '../fixtures.js';

// A proxy's numbers were printed as they came: a list's total in the line under the table, the
// stats' counts, a task's queue position and the target's status code. Nothing checks that they
// are numbers, so a hostile proxy sending `"total": "1\u202e0"` reached the terminal raw.
const HOSTILE = '1\u202e0\u2066';
const SHOWN = '1\\u202e0\\u2066';
const HIDDEN = /[\p{Cf}\u2028\u2029]/u;

const task = {
  ...makeTask(),
  queue_position: HOSTILE,
  result: { status_code: `200${HOSTILE}`, headers: {}, body: 'ok', body_encoding: 'json' },
};

const stats = {
  tasks: {
    ...{ pending: HOSTILE, processing: 0, completed: 0, failed: 0, cancelled: 0, expired: 0 },
    total: `9${HOSTILE}`,
  },
  ...{ queue_size: HOSTILE, max_queue_size: 10, max_concurrent: 1, num_workers: 1 },
  ...{ in_flight: 0, long_tasks: 0, avg_processing_ms: null, uptime_s: 5, target: 'http://t' },
};

describe("a hostile proxy's numbers sent as text", () => {
  it("the list's total and each row's status code show escaped on a terminal", async () => {
    const url = await startHostileProxy({
      task,
      list: { tasks: [task], total: `7${HOSTILE}`, limit: 20, offset: 0 },
    });
    const screen = await screenAtExit(['list', '--url', url], 'the list', { width: 200 });
    expect(screen).toContain('[exit 0]');
    expect(screen).toContain(`of 7${SHOWN}`);
    expect(screen).toContain(`200${SHOWN}`);
    expect(screen).not.toMatch(HIDDEN);
  });

  it("the stats' counts show escaped on a terminal", async () => {
    const url = await startHostileProxy({ task, stats });
    const screen = await screenAtExit(['stats', '--url', url], 'the stats');
    expect(screen).toContain('[exit 0]');
    expect(screen).toContain(`9${SHOWN}`);
    expect(screen).toContain(`${SHOWN} / 10`);
    expect(screen).not.toMatch(HIDDEN);
  });

  it("a task's queue position and status code show escaped on a terminal", async () => {
    const url = await startHostileProxy({ task });
    const screen = await screenAtExit(['task', 'some-id', '--url', url], 'the task');
    expect(screen).toContain('[exit 0]');
    expect(screen).toContain(`200${SHOWN}`);
    expect(screen).not.toMatch(HIDDEN);
  });
});
