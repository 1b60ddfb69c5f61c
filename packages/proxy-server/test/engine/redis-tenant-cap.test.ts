import { Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { DEFAULT_POLICY, RedisBackend, type RedisTaskStore } from '../../src/index.js';
import { FakeClock, newTask, ScriptedProcessor } from './harness.js';
import { redisPerFile } from './redis-fixture.js';

const redis = redisPerFile();
let prefixes = 0;

/** A start held until `open()`; `reached` resolves once the start script is about to run. */
function heldStart() {
  let reach = () => {};
  let open = () => {};
  const reached = new Promise<void>((resolve) => {
    reach = resolve;
  });
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { reach, reached, open, opened };
}

/**
 * One instance with --tenant-max-in-flight `cap` on a fresh prefix, running tasks; starts of the
 * ids in `held` wait for their gate, and finishes drop the tasks they release when `dropReleases`
 * is set (as when Redis's reply is lost on the way).
 */
async function capped(cap: number) {
  const prefix = `tenant-cap-${process.pid}-${++prefixes}`;
  const held = new Map<string, ReturnType<typeof heldStart>>();
  const started = new Map<string, () => void>();
  const faults = { dropReleases: false, failPark: false };
  const errors: string[] = [];
  /** Parks wait for this gate while it is set. */
  const parkGate: { current: ReturnType<typeof heldStart> | null } = { current: null };
  const clock = new FakeClock(Date.now());
  const backend = new RedisBackend({
    url: redis.url,
    prefix,
    concurrency: 3,
    maxQueueSize: 100,
    longTaskThresholdMs: 60_000,
    maxRequeues: 0,
    tenantMaxInFlight: cap,
    clock,
    onError: (error, doing) => errors.push(`${doing}: ${String(error)}`),
    wrapStore: (store) =>
      new Proxy(store, {
        get(target, key) {
          if (key === 'start') {
            const start: RedisTaskStore['start'] = async (id, ...rest) => {
              const gate = held.get(id);
              if (gate) {
                held.delete(id);
                gate.reach();
                await gate.opened;
              }
              const reply = await target.start(id, ...rest);
              started.get(id)?.();
              return reply;
            };
            return start;
          }
          if (key === 'park' && faults.failPark) {
            return async () => {
              throw new Error('store failure: park');
            };
          }
          if (key === 'park' && parkGate.current) {
            const gate = parkGate.current;
            const park: RedisTaskStore['park'] = async (...args) => {
              gate.reach();
              await gate.opened;
              return target.park(...args);
            };
            return park;
          }
          if (key === 'finish') {
            const finish: RedisTaskStore['finish'] = async (...args) => {
              const reply = await target.finish(...args);
              return faults.dropReleases && reply.kind === 'ok'
                ? { ...reply, released: [] }
                : reply;
            };
            return finish;
          }
          const value = Reflect.get(target, key) as unknown;
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }),
  });
  redis.open.push(backend);
  await backend.open();
  const admin = new Redis(redis.url);
  const queue = new Queue('tasks', {
    connection: new Redis(redis.url, { maxRetriesPerRequest: null }),
    prefix,
  });
  onTestFinished(async () => {
    await queue.close();
    await admin.quit();
  });
  const processor = new ScriptedProcessor();
  backend.start(processor.process);
  const admit = async (label: string) => {
    const task = newTask(Date.now(), label, { policy: { ...DEFAULT_POLICY, tenant: 'A' } });
    expect(await backend.admit(task)).toMatchObject({ ok: true });
    return task.id;
  };
  /** A's tasks set aside, in order. */
  const parked = () => admin.zrange(`${prefix}:parked:=A`, '0', '-1');
  /** Admits a task of A and waits for its call to start. */
  const running = async (label: string) => {
    const id = await admit(label);
    await vi.waitFor(() => expect(processor.running.has(id)).toBe(true));
    return id;
  };
  /** Admits tasks of A that its cap sets aside, and waits until all of them are, in order. */
  const setAside = async <Labels extends string[]>(...labels: Labels) => {
    const ids: string[] = [];
    for (const label of labels) ids.push(await admit(label));
    await vi.waitFor(async () => expect(await parked()).toEqual(ids));
    return ids as { [K in keyof Labels]: string };
  };
  /** Holds the start of `id` until the gate opens. */
  const hold = (id: string) => {
    const gate = heldStart();
    held.set(id, gate);
    return gate;
  };
  const startOf = (id: string) =>
    new Promise<void>((resolve) => {
      started.set(id, resolve);
    });
  return {
    backend,
    queue,
    processor,
    admit,
    parked,
    running,
    setAside,
    hold,
    startOf,
    faults,
    clock,
    errors,
    parkGate,
  };
}

describe('RedisBackend: --tenant-max-in-flight', () => {
  // Review: a released task cancelled before its start kept the slot it was released for, and
  // the next task set aside waited for its job's delay to end.
  it('passes a release on when the released task leaves the line before it starts', async () => {
    const t = await capped(1);
    const a1 = await t.running('a1');
    const [a2, a3] = await t.setAside('a2', 'a3');
    const gate = t.hold(a2);
    t.processor.complete(a1);
    await gate.reached;
    expect((await t.backend.cancel(a2)).ok).toBe(true);
    gate.open();
    await vi.waitFor(() => expect(t.processor.running.has(a3)).toBe(true));
  });

  // Review: a task whose job came back by its delay's end took the place a release had just
  // given another, and stayed among those set aside, so a later release went to it (finished by
  // then) rather than to the next task waiting.
  it('keeps a released task’s place from a task whose job comes back meanwhile', async () => {
    const t = await capped(1);
    const a1 = await t.running('a1');
    const [a2, a3] = await t.setAside('a2', 'a3');
    // a3's job comes back (as its delay's end would bring it), its start held until a1 ended.
    const a3Gate = t.hold(a3);
    await (await Job.fromId(t.queue, a3))?.promote();
    await a3Gate.reached;
    const a2Gate = t.hold(a2);
    t.processor.complete(a1);
    await a2Gate.reached;
    const a3Started = t.startOf(a3);
    a3Gate.open();
    await a3Started;
    expect(await t.parked()).toEqual([a3]);
    a2Gate.open();
    await vi.waitFor(() => expect(t.processor.running.has(a2)).toBe(true));
    expect(t.processor.running.has(a3)).toBe(false);
    const a4 = await t.admit('a4');
    await vi.waitFor(async () => expect(await t.parked()).toEqual([a3, a4]));
    t.processor.complete(a2);
    await vi.waitFor(() => expect(t.processor.running.has(a3)).toBe(true));
    t.processor.complete(a3);
    await vi.waitFor(() => expect(t.processor.running.has(a4)).toBe(true));
    expect(await t.parked()).toEqual([]);
  });

  // Review: the park script ran after the job was delayed, and a task whose park failed was
  // set aside nowhere: it waited for its job's delay.
  it('releases a task whose park failed when a call of its tenant ends', async () => {
    const t = await capped(1);
    t.faults.failPark = true;
    const a1 = await t.running('a1');
    const a2 = await t.admit('a2');
    await vi.waitFor(async () =>
      expect(await (await Job.fromId(t.queue, a2))?.getState()).toBe('delayed'),
    );
    expect(await t.parked()).toEqual([a2]);
    t.processor.complete(a1);
    await vi.waitFor(() => expect(t.processor.running.has(a2)).toBe(true));
  });

  // Review: a park that came after its task had been released and started elsewhere took the
  // task for ended and tried to remove the running job.
  it('leaves alone the job of a task released and started before its park', async () => {
    const t = await capped(1);
    const a1 = await t.running('a1');
    const gate = heldStart();
    t.parkGate.current = gate;
    const a2 = await t.admit('a2');
    await gate.reached;
    t.parkGate.current = null;
    t.processor.complete(a1);
    await vi.waitFor(() => expect(t.processor.running.has(a2)).toBe(true));
    gate.open();
    await vi.waitFor(async () =>
      expect(await (await Job.fromId(t.queue, a2))?.getState()).toBe('active'),
    );
    t.processor.complete(a2);
    await vi.waitFor(async () => expect((await t.backend.get(a2))?.status).toBe('completed'));
    expect(t.errors).toEqual([]);
  });

  it('promotes at the next sweep a released task whose promotion was lost', async () => {
    const t = await capped(1);
    const a1 = await t.running('a1');
    const [a2] = await t.setAside('a2');
    t.faults.dropReleases = true;
    t.processor.complete(a1);
    await vi.waitFor(async () =>
      expect((await t.backend.counts()).tenants).toEqual([{ tenant: 'A', queued: 1, inFlight: 0 }]),
    );
    // Released in Redis, its job still delayed: nothing else would hand it out within the hour.
    expect(await t.parked()).toEqual([]);
    expect(await (await Job.fromId(t.queue, a2))?.getState()).toBe('delayed');
    t.clock.advance(5_000);
    await vi.waitFor(() => expect(t.processor.running.has(a2)).toBe(true));
    expect(await t.parked()).toEqual([]);
  });
});
