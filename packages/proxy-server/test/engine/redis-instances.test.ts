import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import { startRedis } from 'test-support';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import {
  DEFAULT_POLICY,
  RedisBackend,
  type RedisTaskStore,
  retryPolicy,
  type TaskEvent,
} from '../../src/index.js';
import { storeErrorLog } from '../../src/proxy/store-error-log.js';
import { admitMany, completed, FakeClock, newTask, ScriptedProcessor } from './harness.js';
import { redisPerFile } from './redis-fixture.js';

const redis = redisPerFile();
const { open } = redis;

let prefixes = 0;
const freshPrefix = () => `instances-${process.pid}-${++prefixes}`;

interface InstanceSettings {
  concurrency: number;
  maxQueueSize?: number;
  rateLimit?: { perSecond: number; burst: number };
  tenantMaxInFlight?: number;
  tenantMaxQueued?: number;
  onWarning?: (message: string) => void;
}

/** A backend on `prefix`, as a proxy instance on one Redis, not opened yet. */
function instanceOn(prefix: string, settings: InstanceSettings): RedisBackend {
  const backend = new RedisBackend({
    url: redis.url,
    prefix,
    concurrency: settings.concurrency,
    maxQueueSize: settings.maxQueueSize ?? 100,
    longTaskThresholdMs: 60_000,
    maxRequeues: 0,
    rateLimit: settings.rateLimit ?? null,
    tenantMaxInFlight: settings.tenantMaxInFlight ?? null,
    tenantMaxQueued: settings.tenantMaxQueued ?? null,
    ...(settings.onWarning && { onWarning: settings.onWarning }),
  });
  open.push(backend);
  return backend;
}

type Wake = RedisTaskStore['wake'];

/** Wraps the store's wake script, the sweep's one call: how a test sees it, or makes it fail. */
function wrappingWake(wake: (inner: Wake, ...args: Parameters<Wake>) => ReturnType<Wake>) {
  return (store: RedisTaskStore): RedisTaskStore =>
    new Proxy(store, {
      get(target, key) {
        if (key === 'wake') {
          return (...args: Parameters<Wake>) => wake(target.wake.bind(target), ...args);
        }
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
}

/**
 * A backend on `url` and `clock` whose store errors (through the proxy's error log) and warnings
 * (`warn: `) go to `logged`, its wake script wrapped; not opened yet.
 */
function loggingBackend(
  url: string,
  clock: FakeClock,
  logged: string[],
  wrapStore: (store: RedisTaskStore) => RedisTaskStore,
): RedisBackend {
  const log = {
    error: (_fields: unknown, message: string) => logged.push(message),
  } as unknown as FastifyBaseLogger;
  const backend = new RedisBackend({
    url,
    prefix: freshPrefix(),
    concurrency: 1,
    maxQueueSize: 10,
    longTaskThresholdMs: 60_000,
    maxRequeues: 0,
    clock,
    onError: storeErrorLog(log, clock),
    onWarning: (message) => logged.push(`warn: ${message}`),
    wrapStore,
  });
  open.push(backend);
  return backend;
}

/**
 * Two backends on one prefix, as two proxy instances on one Redis, each running tasks; `calls`
 * counts the calls in flight on both together.
 */
async function twoInstances(settings: InstanceSettings, prefix = freshPrefix()) {
  const calls = { now: 0, most: 0, startedAt: [] as number[] };
  const make = async () => {
    const backend = instanceOn(prefix, settings);
    await backend.open();
    const processor = new ScriptedProcessor();
    backend.start(async (job, signal) => {
      calls.most = Math.max(calls.most, ++calls.now);
      calls.startedAt.push(Date.now());
      try {
        return await processor.process(job, signal);
      } finally {
        calls.now--;
      }
    });
    return { backend, processor, calls };
  };
  return [await make(), await make()] as const;
}

describe('RedisBackend: two instances on one prefix', () => {
  it('share one cap on calls', async () => {
    const [a, b] = await twoInstances({ concurrency: 2 });
    const ids = [
      ...(await admitMany(a.backend, Date.now(), 3)),
      ...(await admitMany(b.backend, Date.now(), 3)),
    ];
    const running = () => a.processor.running.size + b.processor.running.size;
    await vi.waitFor(() => expect(running()).toBe(2));
    for (let done = 0; done < ids.length; done++) {
      await vi.waitFor(() => expect(running()).toBe(Math.min(2, ids.length - done)));
      const [processor, id] =
        a.processor.running.size > 0
          ? [a.processor, [...a.processor.running.keys()][0]]
          : [b.processor, [...b.processor.running.keys()][0]];
      processor.complete(id as string);
    }
    await vi.waitFor(async () => expect((await a.backend.counts()).completed).toBe(6));
    expect(a.calls.most).toBe(2);
  });

  it('take fair turns together: one tenant’s burst through one does not starve another’s through the other', async () => {
    const [a, b] = await twoInstances({ concurrency: 1 });
    const started: string[] = [];
    a.backend.subscribe((event) => {
      if (event.type === 'started') started.push(event.task.id);
    });
    const admit = async (on: RedisBackend, tenant: string) => {
      const task = newTask(Date.now(), tenant, { policy: { ...DEFAULT_POLICY, tenant } });
      expect(await on.admit(task)).toMatchObject({ ok: true });
      return task.id;
    };
    const burst = [await admit(a.backend, 'A')];
    await vi.waitFor(() => expect(started).toEqual(burst));
    for (let n = 1; n < 5; n++) burst.push(await admit(a.backend, 'A'));
    const few = [await admit(b.backend, 'B'), await admit(b.backend, 'B')];
    expect((await b.backend.counts()).tenants).toEqual([
      { tenant: 'A', queued: 4, inFlight: 1 },
      { tenant: 'B', queued: 2, inFlight: 0 },
    ]);
    a.processor.autoOutcome = completed('x');
    b.processor.autoOutcome = completed('x');
    for (const { processor } of [a, b]) {
      for (const id of processor.running.keys()) processor.complete(id);
    }
    await vi.waitFor(async () => expect((await b.backend.counts()).completed).toBe(7));
    const [a0, a1, a2, a3, a4] = burst;
    const [b0, b1] = few;
    expect(started).toEqual([a0, a1, b0, a2, b1, a3, a4]);
    expect((await a.backend.counts()).tenants).toEqual([]);
  });

  it('hold one queue: the cap on waiting tasks counts both instances’ admissions', async () => {
    const [a, b] = await twoInstances({ concurrency: 1, maxQueueSize: 2 });
    await admitMany(a.backend, Date.now(), 1);
    await vi.waitFor(() => expect(a.processor.running.size + b.processor.running.size).toBe(1));
    await admitMany(b.backend, Date.now(), 2);
    expect(await a.backend.admit(newTask(Date.now()))).toEqual({
      ok: false,
      reason: 'queue_full',
      queued: 2,
    });
    expect(await b.backend.counts()).toMatchObject({ pending: 2, processing: 1, queued: 2 });
  });

  it('tell each other’s transitions, local only where made, and resume on either', async () => {
    const [a, b] = await twoInstances({ concurrency: 1 });
    const seenOnA: TaskEvent[] = [];
    const seenOnB: TaskEvent[] = [];
    a.backend.subscribe((event) => seenOnA.push(event));
    b.backend.subscribe((event) => seenOnB.push(event));
    const [id] = await admitMany(a.backend, Date.now(), 1);
    await vi.waitFor(() => expect(a.processor.running.size + b.processor.running.size).toBe(1));
    const processor = a.processor.running.size > 0 ? a.processor : b.processor;
    processor.complete(id as string, completed('done'));
    const kinds = (events: TaskEvent[]) => events.map((event) => event.type);
    await vi.waitFor(() => expect(kinds(seenOnA)).toEqual(['created', 'started', 'finished']));
    await vi.waitFor(() => expect(kinds(seenOnB)).toEqual(['created', 'started', 'finished']));
    expect(seenOnB.map((event) => event.id)).toEqual(seenOnA.map((event) => event.id));
    expect(seenOnA[0]?.local).toBe(true);
    expect(seenOnB[0]?.local).toBe(false);
    const runnerIsA = processor === a.processor;
    expect(seenOnA[1]?.local).toBe(runnerIsA);
    expect(seenOnB[1]?.local).toBe(!runnerIsA);

    // A subscriber that saw `created` on A resumes on B.
    const replayed: TaskEvent[] = [];
    const resumed = b.backend.subscribe((event) => replayed.push(event), {
      after: seenOnA[0]?.id,
    });
    expect(resumed.complete).toBe(true);
    expect(kinds(replayed)).toEqual(['started', 'finished']);
  });

  // Hostile pass: an instance told its own events at once and the other's as the stream brought
  // them, so a live subscriber heard ids out of order; one that resumed after the higher id
  // (a browser's Last-Event-ID) never heard the lower.
  it('tell an event stream every event in id order, however both instances’ events interleave', async () => {
    const [a, b] = await twoInstances({ concurrency: 1, maxQueueSize: 1_000 });
    const seen: string[] = [];
    let created = 0;
    a.backend.subscribe(
      (event) => {
        seen.push(event.id);
        if (event.type === 'created') created++;
      },
      { resumable: true },
    );
    const admit = (backend: RedisBackend) =>
      Array.from({ length: 150 }, (_, i) => backend.admit(newTask(Date.now() + i)));
    await Promise.all([...admit(a.backend), ...admit(b.backend)]);
    await vi.waitFor(() => expect(created).toBe(300));
    const asNumbers = (id: string) => id.split('-').map(Number) as [number, number];
    const backwards = seen.filter((id, at) => {
      if (at === 0) return false;
      const [ms, seq] = asNumbers(id);
      const [lastMs, lastSeq] = asNumbers(seen[at - 1] as string);
      return ms < lastMs || (ms === lastMs && seq < lastSeq);
    });
    expect(backwards).toEqual([]);
  });

  it('wait for a finish on one instance made on the other, and cancel a call across', async () => {
    const [a, b] = await twoInstances({ concurrency: 2 });
    const [first, second] = await admitMany(a.backend, Date.now(), 2);
    await vi.waitFor(() => expect(a.processor.running.size + b.processor.running.size).toBe(2));
    const holder = (id: string) => (a.processor.running.has(id) ? a : b);
    const other = (id: string) => (holder(id) === a ? b : a);

    const waiting = other(first as string).backend.waitForFinish(
      first as string,
      new AbortController().signal,
    );
    holder(first as string).processor.complete(first as string, completed('from afar'));
    expect(await waiting).toMatchObject({ status: 'completed', result: { body: 'from afar' } });

    const call = holder(second as string).processor.running.get(second as string);
    const answer = await other(second as string).backend.cancel(second as string);
    expect(answer).toMatchObject({ ok: true, task: { status: 'cancelled' } });
    await vi.waitFor(() => expect(call?.signal.aborted).toBe(true));
    expect(await holder(second as string).backend.get(second as string)).toMatchObject({
      status: 'cancelled',
    });
  });

  it('start no more calls a second together than the rate limit allows', async () => {
    // 10 a second, 2 at once: BullMQ's limiter lets 2 start per 200 ms window, on real time.
    const [a, b] = await twoInstances({ concurrency: 10, rateLimit: { perSecond: 10, burst: 2 } });
    a.processor.autoOutcome = completed('x');
    b.processor.autoOutcome = completed('x');
    await admitMany(a.backend, Date.now(), 5);
    await admitMany(b.backend, Date.now(), 5);
    await vi.waitFor(async () => expect((await a.backend.counts()).completed).toBe(10), {
      timeout: 5_000,
    });
    const starts = [...a.calls.startedAt].sort((x, y) => x - y);
    // Ten starts take at least four more windows after the first; without the limit, all at once.
    expect((starts.at(-1) as number) - (starts[0] as number)).toBeGreaterThanOrEqual(700);
    // Two fixed windows overlap any 200 ms: never more than twice the burst in one.
    for (const [n, at] of starts.entries()) {
      expect(
        starts.filter((other) => other >= at && other < at + 200).length,
        `from start ${n}`,
      ).toBeLessThanOrEqual(4);
    }
  });
});

describe('RedisBackend: a Redis that may evict keys', () => {
  it('opens, saying that tasks can be lost and which policy loses none', async () => {
    const admin = new Redis(redis.url);
    const before = (await admin.config('GET', 'maxmemory', 'maxmemory-policy')) as string[];
    onTestFinished(async () => {
      await admin.config('SET', ...before);
      admin.disconnect();
    });
    await admin.config('SET', 'maxmemory', '1gb');
    const warnings: string[] = [];
    const quiet = instanceOn(freshPrefix(), {
      concurrency: 1,
      onWarning: (message) => warnings.push(message),
    });
    await quiet.open();
    expect(warnings).toEqual([]);

    // No maxmemory, nothing is evicted whatever the policy: no warning.
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru', 'maxmemory', '0');
    await instanceOn(freshPrefix(), {
      concurrency: 1,
      onWarning: (message) => warnings.push(message),
    }).open();
    expect(warnings).toEqual([]);

    await admin.config('SET', 'maxmemory', '1gb');
    const warned = instanceOn(freshPrefix(), {
      concurrency: 1,
      onWarning: (message) => warnings.push(message),
    });
    await warned.open();
    expect(warnings).toEqual([
      `Redis at ${redis.url} evicts keys when it is full (maxmemory-policy allkeys-lru), tasks among them: set maxmemory-policy noeviction, under which a full Redis refuses new tasks (503 store_unavailable) and loses none`,
    ]);
  });
});

// Review: the policy was read at the start only; an operator who set an evicting one on the
// running Redis (CONFIG SET) heard nothing of it, and tasks could vanish with no word.
describe('RedisBackend: an eviction policy changed while it runs', () => {
  it('is read again by the sweep, and said once per change', async () => {
    const admin = new Redis(redis.url);
    const before = (await admin.config('GET', 'maxmemory', 'maxmemory-policy')) as string[];
    onTestFinished(async () => {
      await admin.config('SET', ...before);
      admin.disconnect();
    });
    await admin.config('SET', 'maxmemory', '1gb', 'maxmemory-policy', 'noeviction');
    const clock = new FakeClock();
    const warnings: string[] = [];
    const backend = new RedisBackend({
      url: redis.url,
      prefix: freshPrefix(),
      concurrency: 1,
      maxQueueSize: 10,
      longTaskThresholdMs: 60_000,
      maxRequeues: 0,
      clock,
      onWarning: (message) => warnings.push(message),
      wrapStore: wrappingWake(async (wake, ...args) => {
        const reply = await wake(...args);
        woken++;
        return reply;
      }),
    });
    let woken = 0;
    open.push(backend);
    await backend.open();
    /** Lets `minutes` of sweeps (every 5 s) go by, each one's script answered before the next. */
    const sweeps = async (minutes: number) => {
      for (let n = 0; n < minutes * 12; n++) {
        const before = woken;
        clock.advance(5_000);
        await vi.waitFor(() => expect(woken).toBe(before + 1));
      }
      // What a sweep does after its script (the cap, the policy) has its answers too.
      for (let turn = 0; turn < 5; turn++) await admin.ping();
    };
    await sweeps(2);
    expect(warnings).toEqual([]);

    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    await sweeps(3);
    await vi.waitFor(() =>
      expect(warnings).toEqual([
        `Redis at ${redis.url} now evicts keys when it is full (maxmemory-policy allkeys-lru), tasks among them: set maxmemory-policy noeviction, under which a full Redis refuses new tasks (503 store_unavailable) and loses none`,
      ]),
    );

    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await sweeps(2);
    await vi.waitFor(() =>
      expect(warnings.slice(1)).toEqual([
        `Redis at ${redis.url} no longer evicts keys (maxmemory-policy noeviction): tasks are safe from eviction again`,
      ]),
    );
  });
});

describe('RedisBackend: the cap and the rate limit are one for every instance on a prefix', () => {
  it('are set by the instance opened last, which says what it changed', async () => {
    const prefix = freshPrefix();
    await twoInstances({ concurrency: 1 }, prefix);
    const admin = new Redis(redis.url);
    onTestFinished(() => admin.disconnect());
    const settings = () => admin.hmget(`${prefix}:tasks:meta`, 'concurrency', 'max', 'duration');
    expect(await settings()).toEqual(['1', null, null]);

    const warnings: string[] = [];
    const last = instanceOn(prefix, {
      concurrency: 3,
      rateLimit: { perSecond: 100, burst: 50 },
      onWarning: (message) => warnings.push(message),
    });
    await last.open();
    expect(await settings()).toEqual(['3', '50', '500']);
    expect(warnings).toEqual([
      `the instances on --redis-prefix ${prefix} had a cap of 1 calls in flight; this one sets 3 for all of them (give every instance the same --max-concurrent and --num-workers)`,
      `the instances on --redis-prefix ${prefix} had a rate limit of none; this one sets 50 calls per 500 ms for all of them (give every instance the same --max-rps and --max-rps-burst)`,
    ]);

    // One more with the same settings changes nothing and says nothing.
    const same = instanceOn(prefix, {
      concurrency: 3,
      rateLimit: { perSecond: 100, burst: 50 },
      onWarning: (message) => warnings.push(message),
    });
    await same.open();
    expect(warnings).toHaveLength(2);
  });

  // Redis pass: an instance started without the tenant caps of the others joined without a
  // word, and handed out a tenant's tasks past --tenant-max-in-flight.
  it('has each instance say when the tenant caps differ from the last one opened', async () => {
    const prefix = freshPrefix();
    await twoInstances({ concurrency: 2, tenantMaxInFlight: 2, tenantMaxQueued: 50 }, prefix);
    const warnings: string[] = [];
    const without = instanceOn(prefix, {
      concurrency: 2,
      onWarning: (message) => warnings.push(message),
    });
    await without.open();
    expect(warnings).toEqual([
      `the instance opened last on --redis-prefix ${prefix} had --tenant-max-in-flight 2 and --tenant-max-queued 50; this one has none and none, and holds its tenants to those: give every instance the same --tenant-max-in-flight and --tenant-max-queued`,
    ]);
    const again = instanceOn(prefix, {
      concurrency: 2,
      onWarning: (message) => warnings.push(message),
    });
    await again.open();
    expect(warnings).toHaveLength(1);
  });

  it('puts the cap back when Redis comes back without its data', async () => {
    const own = await startRedis();
    onTestFinished(() => own.close());
    const prefix = freshPrefix();
    const backend = new RedisBackend({
      url: own.url,
      prefix,
      concurrency: 2,
      maxQueueSize: 100,
      longTaskThresholdMs: 60_000,
      maxRequeues: 0,
    });
    open.push(backend);
    await backend.open();
    // Restarted with no persistence: every key is gone, the cap with them.
    await own.restart();
    const admin = new Redis(own.url);
    onTestFinished(() => admin.disconnect());
    await vi.waitFor(
      async () => expect(await admin.hget(`${prefix}:tasks:meta`, 'concurrency')).toBe('2'),
      { timeout: 5_000 },
    );
  });
});

// Review: the retry script answered `stale` for a task gone from Redis (restarted without
// persistence, flushed, evicted) as for one cancelled meanwhile, so a call to be tried again
// whose task had vanished ended with no word, where a final outcome gets a warning.
describe('RedisBackend: a failed call to be tried again whose task has ended meanwhile', () => {
  it.each([
    ['is gone from Redis: says so, naming the task and its outcome', 'gone'],
    ['was cancelled: says nothing', 'cancelled'],
  ] as const)('%s', async (_name, meanwhile) => {
    const prefix = freshPrefix();
    const admin = new Redis(redis.url);
    onTestFinished(() => {
      admin.disconnect();
    });
    const other = instanceOn(prefix, { concurrency: 1 });
    await other.open();
    const warnings: string[] = [];
    const retried: unknown[] = [];
    // What happens between the end of the call and the retry script: the task vanishes with
    // every key of the prefix, or another instance cancels it.
    const end = async (id: string) => {
      if (meanwhile === 'cancelled') {
        expect(await other.cancel(id)).toMatchObject({ ok: true });
        return;
      }
      const keys = await admin.keys(`${prefix}:*`);
      if (keys.length > 0) await admin.del(...keys);
    };
    const backend = new RedisBackend({
      url: redis.url,
      prefix,
      concurrency: 1,
      maxQueueSize: 10,
      longTaskThresholdMs: 60_000,
      maxRequeues: 0,
      retry: retryPolicy({
        retryOn: { statuses: new Set([503]), errors: new Set() },
        minDelayMs: 1_000,
        maxDelayMs: 1_000,
      }),
      onWarning: (message) => warnings.push(message),
      wrapStore: (store) =>
        new Proxy(store, {
          get(target, key) {
            if (key === 'retry') {
              return async (...args: Parameters<RedisTaskStore['retry']>) => {
                await end(args[0]);
                const reply = await target.retry(...args);
                retried.push(reply);
                return reply;
              };
            }
            const value = Reflect.get(target, key) as unknown;
            return typeof value === 'function' ? value.bind(target) : value;
          },
        }),
    });
    open.push(backend);
    await backend.open();
    const processor = new ScriptedProcessor();
    backend.start(processor.process);
    const task = newTask(Date.now(), 'to-retry', {
      policy: { ...DEFAULT_POLICY, maxAttempts: 3 },
    });
    expect(await backend.admit(task)).toMatchObject({ ok: true });
    await vi.waitFor(() => expect(processor.running.has(task.id)).toBe(true));
    processor.complete(task.id, completed('busy', 503));
    await vi.waitFor(() => expect(retried).toHaveLength(1));
    if (meanwhile === 'cancelled') {
      expect(warnings).toEqual([]);
      expect(await backend.get(task.id)).toMatchObject({ status: 'cancelled', attempts: 1 });
      return;
    }
    await vi.waitFor(() =>
      expect(warnings).toEqual([
        `task ${task.id} was gone from Redis when its call ended (failed, status 503): its outcome is not kept; Redis lost its data (restarted without persistence, flushed, or evicted)`,
      ]),
    );
    expect(await backend.get(task.id)).toBeUndefined();
  });
});

describe('RedisBackend: a full queue of tasks waiting for retries', () => {
  // The admission script holds Redis for every instance while it looks for a task to shed: with
  // a target down under --retry-on, a big queue may be all retries, none of which may be shed.
  it('looks at the newest 1,000 tasks below a newcomer for one to shed, and no further', async () => {
    const prefix = freshPrefix();
    const admin = new Redis(redis.url);
    onTestFinished(() => {
      admin.disconnect();
    });
    const backend = instanceOn(prefix, { concurrency: 1, maxQueueSize: 1_002 });
    await backend.open();
    const ids = await admitMany(backend, Date.now(), 1_002);
    const waitForRetry = (id: string, nextAttemptAt: string) =>
      admin.hset(`${prefix}:task:${id}`, 'na', nextAttemptAt);
    // All but the oldest wait for a retry (as the retry script leaves them): the oldest is past
    // the newest 1,000.
    await Promise.all(ids.slice(1).map((id) => waitForRetry(id, String(Date.now() + 60_000))));
    const high = () =>
      backend.admit(
        newTask(Date.now(), 'high', { policy: { ...DEFAULT_POLICY, priority: 'high' } }),
      );
    expect(await high()).toMatchObject({ ok: false, reason: 'queue_full', queued: 1_002 });
    expect((await backend.get(ids[0] as string))?.status).toBe('pending');
    // The 1,000th newest can be shed again: it is.
    await waitForRetry(ids[2] as string, '');
    expect(await high()).toMatchObject({ ok: true });
    expect(await backend.get(ids[2] as string)).toMatchObject({
      status: 'failed',
      error: { code: 'shed' },
    });
    expect((await backend.get(ids[1] as string))?.status).toBe('pending');
  });
});

// Review: an outage logged the failed sweep again every minute (the store's error log quiets a
// repeated failure for a minute, not for the outage), again whenever ioredis's words for the
// failure changed, and nothing said when the sweep worked again.
describe('RedisBackend: the sweep through a Redis outage', () => {
  it('is logged once per outage, with a line when Redis answers it again', async () => {
    const own = await startRedis();
    onTestFinished(() => own.close());
    const clock = new FakeClock();
    const logged: string[] = [];
    const sweepsFailed = { count: 0 };
    const backend = loggingBackend(
      own.url,
      clock,
      logged,
      wrappingWake(async (wake, ...args) => {
        try {
          return await wake(...args);
        } catch (error) {
          sweepsFailed.count++;
          throw error;
        }
      }),
    );
    await backend.open();
    await own.stop('SIGKILL');
    // The next sweep fails, then three minutes of an outage: it is tried again every second.
    for (let second = 0; second < 180; second++) {
      const before = sweepsFailed.count;
      clock.advance(second === 0 ? 5_000 : 1_000);
      await vi.waitFor(() => expect(sweepsFailed.count).toBeGreaterThan(before));
    }
    const sweepLines = () =>
      logged.filter((line) => line.includes('expiring queued tasks and queueing retries'));
    expect(sweepLines()).toEqual(['task store: expiring queued tasks and queueing retries']);
    expect((await backend.health()).available).toBe(false);

    await own.restart();
    const back =
      /^warn: Redis at redis:\/\/127\.0\.0\.1:\d+\/0 answers the sweep again after (\d+) s \((\d+) failed sweeps\)$/;
    await vi.waitFor(
      async () => {
        clock.advance(1_000);
        expect(logged.filter((line) => line.includes('answers the sweep again'))).toEqual([
          expect.stringMatching(back),
        ]);
      },
      { timeout: 10_000, interval: 100 },
    );
    const [, seconds, failed] = back.exec(logged.find((line) => back.test(line)) ?? '') ?? [];
    expect(Number(seconds)).toBeGreaterThanOrEqual(180);
    expect(Number(failed)).toBeGreaterThanOrEqual(181);
    expect(sweepLines()).toHaveLength(1);
  }, 60_000);

  it('is no outage when Redis answers with an error: logged as any other failure', async () => {
    const clock = new FakeClock();
    const logged: string[] = [];
    const refusing = { now: true, sweeps: 0 };
    const backend = loggingBackend(
      redis.url,
      clock,
      logged,
      wrappingWake(async (wake, ...args) => {
        refusing.sweeps++;
        if (refusing.now) throw new Error('NOPERM this user has no permissions');
        return wake(...args);
      }),
    );
    await backend.open();
    // Three minutes of refusals, each sweep a second after the last (the refusal settles within
    // the turn); the store's error log says so again each minute.
    for (let second = 0; second < 180; second++) {
      clock.advance(1_000);
      await new Promise((settled) => setImmediate(settled));
    }
    expect(refusing.sweeps).toBeGreaterThanOrEqual(175);
    const sweepLines = () =>
      logged.filter((line) => line.includes('expiring queued tasks and queueing retries'));
    expect(sweepLines().length).toBeGreaterThanOrEqual(3);
    // Answered again: no outage was logged, so none is said to be over.
    refusing.now = false;
    const sweeps = refusing.sweeps;
    clock.advance(1_000);
    await vi.waitFor(() => expect(refusing.sweeps).toBeGreaterThan(sweeps));
    await new Promise((settled) => setImmediate(settled));
    expect(logged.filter((line) => line.includes('answers the sweep again'))).toEqual([]);
  });
});
