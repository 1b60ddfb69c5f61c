import { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_POLICY,
  RedisBackend,
  type RedisTaskStore,
  retryPolicy,
  type TaskEvent,
} from '../../src/index.js';
import { admitMany, completed, newTask, ScriptedProcessor } from './harness.js';
import { feedHeldBack, recordingConnector, redisPerFile } from './redis-fixture.js';

const redis = redisPerFile();
const { open } = redis;

let prefixes = 0;

/**
 * Two instances on one prefix, on the real clock, with short leases: the first takes calls and
 * dies; the second, already running, gets them back from BullMQ's stalled-job check once their
 * leases run out (no restart, no `open()` of the second after the death).
 */
async function deathWhileAnotherRuns(
  maxRequeues: number,
  /** Runs on the calls' ids while the first instance still holds them. */
  beforeDeath: (prefix: string, ids: string[]) => Promise<void> = async () => {},
) {
  const prefix = `recovery-${process.pid}-${++prefixes}`;
  const make = (connect = recordingConnector().connect) => {
    const backend = new RedisBackend({
      url: redis.url,
      prefix,
      concurrency: 2,
      maxQueueSize: 100,
      longTaskThresholdMs: 60_000,
      maxRequeues,
      lockDurationMs: 1_000,
      stalledIntervalMs: 300,
      connect,
      onWarning: (message) => warnings.push(message),
    });
    open.push(backend);
    return backend;
  };
  const warnings: string[] = [];
  const dying = recordingConnector();
  const first = make(dying.connect);
  await first.open();
  const firstProcessor = new ScriptedProcessor();
  first.start(firstProcessor.process);
  const ids = await admitMany(first, Date.now(), 3);
  await vi.waitFor(() => expect(firstProcessor.running.size).toBe(2));
  await beforeDeath(prefix, ids);

  const feed = feedHeldBack();
  const second = make(feed.connect);
  // The first's calls still hold their leases: nothing to recover yet.
  expect(await second.open()).toMatchObject({ requeued: 0, interrupted: 0, total: 3 });
  // Heard as the instance's log and metrics hear them, in the order it told them.
  const heard: TaskEvent[] = [];
  second.subscribe((event) => heard.push(event));
  // As an event stream (`/events`) hears them: in the stream's order, once it reads them.
  const streamed: TaskEvent[] = [];
  second.subscribe((event) => streamed.push(event), { resumable: true });
  const secondProcessor = new ScriptedProcessor();
  secondProcessor.autoOutcome = completed('second');
  second.start(secondProcessor.process);
  dying.cutOff();
  await vi.waitFor(async () => expect((await second.counts()).processing).toBe(0), {
    timeout: 15_000,
    interval: 100,
  });
  await vi.waitFor(async () => expect((await second.counts()).pending).toBe(0));
  feed.release();
  const tasks = await Promise.all(ids.map((id) => second.get(id)));
  return { ids, tasks, firstProcessor, secondProcessor, warnings, heard, streamed };
}

describe('RedisBackend: calls of an instance that died while another runs', () => {
  it('fail interrupted once their leases run out, and the queue goes on', async () => {
    const { ids, tasks, secondProcessor } = await deathWhileAnotherRuns(0);
    expect(tasks.map((task) => task?.status)).toEqual(['failed', 'failed', 'completed']);
    expect(tasks[0]).toMatchObject({ error: { code: 'interrupted' }, attempts: 1 });
    expect(tasks[2]).toMatchObject({ result: { body: 'second' }, attempts: 1 });
    expect(secondProcessor.startedIds()).toEqual([ids[2]]);
  });

  it('run again on the live instance with requeueInterrupted', async () => {
    const { ids, tasks, secondProcessor, heard, streamed } = await deathWhileAnotherRuns(3);
    expect(tasks.map((task) => task?.status)).toEqual(['completed', 'completed', 'completed']);
    await vi.waitFor(() =>
      expect(streamed.filter((event) => event.local && event.type === 'finished')).toHaveLength(3),
    );
    // Redis pass: the instance that ran the call again heard `started` before `requeued`, and
    // the requeue gave a place in line to a task that never waited in it.
    for (const id of ids.slice(0, 2)) {
      const expected = [
        ['requeued', 'pending', null],
        ['started', 'processing', null],
        ['finished', 'completed', null],
      ];
      expect(localTransitions(heard, id), `task ${id}`).toEqual(expected);
      expect(localTransitions(streamed, id), `task ${id}, streamed`).toEqual(expected);
    }
    const streamIds = streamed.map((event) => event.id.split('-').map(Number) as [number, number]);
    const sorted = [...streamIds].sort(
      ([ms, seq], [otherMs, otherSeq]) => ms - otherMs || seq - otherSeq,
    );
    expect(streamIds).toEqual(sorted);
    expect(new Set(streamed.map((event) => event.id)).size).toBe(streamed.length);
    expect(tasks.map((task) => task?.attempts)).toEqual([2, 2, 1]);
    expect(new Set(secondProcessor.startedIds())).toEqual(new Set(ids));
    // The calls the dead instance cut off stay in the history, beside the ones that ran again.
    for (const task of tasks.slice(0, 2)) {
      expect(task?.attemptLog).toMatchObject([
        { attempt: 1, outcome: 'failed', errorCode: 'interrupted', retryAt: null },
        { attempt: 2, outcome: 'completed', statusCode: 200 },
      ]);
    }
    expect(tasks[2]?.attemptLog).toMatchObject([{ attempt: 1, outcome: 'completed' }]);
  });

  it('fail interrupted past maxRequeues, named in a warning, the others run again', async () => {
    // The first call was cut off once already, as a crash before this one would have left it.
    const cutOffBefore = async (prefix: string, ids: string[]) => {
      const admin = new Redis(redis.url);
      const entry = { attempt: 0, startedAt: 1, finishedAt: 2, outcome: 'failed' };
      const cutOff = { ...entry, statusCode: null, errorCode: 'interrupted', retryAt: null };
      await admin.hset(`${prefix}:task:${ids[0]}`, 'al', JSON.stringify([cutOff]));
      await admin.quit();
    };
    const { ids, tasks, warnings } = await deathWhileAnotherRuns(1, cutOffBefore);
    expect(tasks.map((task) => task?.status)).toEqual(['failed', 'completed', 'completed']);
    expect(tasks[0]).toMatchObject({ error: { code: 'interrupted' }, attempts: 1 });
    expect(tasks[0]?.error?.message).toContain('--max-requeues');
    expect(tasks[0]?.attemptLog.map((call) => call.errorCode)).toEqual([
      'interrupted',
      'interrupted',
    ]);
    expect(tasks[1]?.attempts).toBe(2);
    expect(warnings.filter((message) => message.includes('--max-requeues'))).toEqual([
      expect.stringContaining(`task ${ids[0]} cut off again`),
    ]);
  });
});

describe('RedisBackend: a start whose answer was lost', () => {
  it('is taken for what it is, this worker’s own start, not a dead worker’s call', async () => {
    let lose = 1;
    const backend = new RedisBackend({
      url: redis.url,
      prefix: `lost-answer-${process.pid}-${++prefixes}`,
      concurrency: 1,
      maxQueueSize: 100,
      longTaskThresholdMs: 60_000,
      maxRequeues: 0,
      // The start is written, then its answer is lost, as when Redis goes away just after.
      wrapStore: (store): RedisTaskStore => ({
        ...bound(store),
        start: async (...args) => {
          const reply = await store.start(...args);
          if (lose-- > 0) throw new Error('Connection is closed.');
          return reply;
        },
      }),
    });
    open.push(backend);
    await backend.open();
    const processor = new ScriptedProcessor();
    processor.autoOutcome = completed('once');
    backend.start(processor.process);
    const [id] = await admitMany(backend, Date.now(), 1);
    await vi.waitFor(async () =>
      expect(await backend.get(id as string)).toMatchObject({
        status: 'completed',
        attempts: 1,
        result: { body: 'once' },
      }),
    );
    expect(processor.jobs).toHaveLength(1);
  });
});

/** [type, status, queue position] of the events an instance made for one task, as heard. */
function localTransitions(events: TaskEvent[], id: string): [string, string, number | null][] {
  return events.flatMap((event) =>
    event.type !== 'removed' && event.local && event.task.id === id
      ? [
          [event.type, event.task.status, event.task.queuePosition] as [
            string,
            string,
            number | null,
          ],
        ]
      : [],
  );
}

/** The store's methods, bound, to override one. */
function bound(store: RedisTaskStore): RedisTaskStore {
  return {
    admit: store.admit.bind(store),
    discard: store.discard.bind(store),
    start: store.start.bind(store),
    finish: store.finish.bind(store),
    requeue: store.requeue.bind(store),
    retry: store.retry.bind(store),
    wake: store.wake.bind(store),
    park: store.park.bind(store),
    setCallback: store.setCallback.bind(store),
    pendingCallbacks: store.pendingCallbacks.bind(store),
    get: store.get.bind(store),
    getRequest: store.getRequest.bind(store),
    list: store.list.bind(store),
    counts: store.counts.bind(store),
    removeFinished: store.removeFinished.bind(store),
    recover: store.recover.bind(store),
    finishedCalls: store.finishedCalls.bind(store),
  };
}

// Redis pass: during an outage longer than a lease, BullMQ handed a job to another instance,
// which started the task again; the first instance's outcome, saved once Redis answered, was
// dropped without a word (the target had run the call twice).
describe('an outcome that comes after the task was started again or ended elsewhere', () => {
  it.each([
    ['running its other attempt', { a: '2' }, completed('late'), '(completed, status 200)'],
    [
      'its other attempt ended',
      { a: '2', s: 'completed' },
      completed('late'),
      '(completed, status 200)',
    ],
    ['one to be retried', { a: '2' }, completed('busy', 503), '(failed, status 503)'],
    // The Redis pass: without --requeue-interrupted, another instance ends the task
    // interrupted as a dead one's, and the answer the target gave was dropped without a word.
    [
      'ended interrupted by another instance',
      { s: 'failed', e: JSON.stringify({ code: 'interrupted', message: 'left by a dead one' }) },
      completed('late'),
      '(completed, status 200)',
    ],
    [
      'ended interrupted, one to be retried',
      { s: 'failed', e: JSON.stringify({ code: 'interrupted', message: 'left by a dead one' }) },
      completed('busy', 503),
      '(failed, status 503)',
    ],
  ] as const)('%s: is not kept, and the log says so', async (what, fields, outcome, said) => {
    const prefix = `recovery-${process.pid}-${++prefixes}`;
    const warnings: string[] = [];
    const backend = new RedisBackend({
      url: redis.url,
      prefix,
      concurrency: 1,
      maxQueueSize: 100,
      longTaskThresholdMs: 60_000,
      maxRequeues: 0,
      retry: retryPolicy({
        retryOn: { statuses: new Set([503]), errors: new Set() },
        minDelayMs: 100,
        maxDelayMs: 100,
      }),
      onWarning: (message) => warnings.push(message),
    });
    open.push(backend);
    await backend.open();
    const processor = new ScriptedProcessor();
    backend.start(processor.process);
    const task = newTask(Date.now(), 'late', { policy: { ...DEFAULT_POLICY, maxAttempts: 3 } });
    await backend.admit(task);
    await vi.waitFor(() => expect(processor.running.size).toBe(1));
    // As another instance's start of attempt 2 leaves it (and, once that one ended, its end).
    const admin = new Redis(redis.url);
    await admin.hset(`${prefix}:task:${task.id}`, fields);
    admin.disconnect();
    processor.complete(task.id, outcome);
    const warning = what.startsWith('ended interrupted')
      ? `the outcome of task ${task.id}'s attempt 1 ${said} came after another instance ended the task interrupted (its lease ran out while this instance could not reach Redis): it is not kept, though the target had the call`
      : `the outcome of task ${task.id}'s attempt 1 ${said} came after the task was started again (its lease ran out while this instance could not reach Redis, and its job was handed out again): it is not kept, and the target had the call twice`;
    await vi.waitFor(() => expect(warnings).toEqual([warning]));
  });
});
