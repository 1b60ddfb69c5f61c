import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { expect, it, onTestFinished, vi } from 'vitest';
import { EventFeed } from '../../src/engine/redis/event-feed.js';
import { FakeClock } from '../engine/harness.js';

// Redis pass: a read cut by a CLIENT KILL was logged, and the denial of every read after it (an
// ACL that no longer allows XREAD, the operator's to fix) never was.
it('logs a failing read again when its reason changes, and not while it repeats', async () => {
  const failures = ['Connection is closed.', 'NOPERM xread', 'NOPERM xread'];
  let reads = 0;
  const client = Object.assign(new EventEmitter(), {
    xrevrange: async () => [],
    xreadBuffer: () => {
      reads++;
      const failure = failures.shift();
      return failure === undefined ? new Promise(() => {}) : Promise.reject(new Error(failure));
    },
  }) as unknown as Redis;
  const clock = new FakeClock();
  const logged: string[] = [];
  const feed = new EventFeed({
    client,
    key: 'proxy:events',
    origin: 'here',
    capacity: 10,
    clock,
    onEvent: () => {},
    onResumed: () => {},
    onError: (error, doing) => logged.push(`${doing}: ${(error as Error).message}`),
  });
  onTestFinished(() => feed.close());
  await feed.open();
  await vi.waitFor(() =>
    expect(logged).toEqual(['reading the event stream: Connection is closed.']),
  );
  for (const read of [2, 3, 4]) {
    clock.advance(1_000);
    await vi.waitFor(() => expect(reads).toBe(read));
  }
  expect(logged).toEqual([
    'reading the event stream: Connection is closed.',
    'reading the event stream: NOPERM xread',
  ]);
});
