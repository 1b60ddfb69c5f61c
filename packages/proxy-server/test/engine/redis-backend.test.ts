import { Worker } from 'bullmq';
import { type Command, Redis } from 'ioredis';
import { startRedis } from 'test-support';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { describeBackendConformance } from './conformance.js';
import { admitMany, FakeClock, newTask, ScriptedProcessor } from './harness.js';
import {
  backendReplacing,
  oneSlotBackend,
  recordingConnector,
  redisFixture,
  redisPerFile,
} from './redis-fixture.js';

const redis = redisPerFile();

// The rate limit is BullMQ's, on real time rather than the fixture's clock, and
// redis-instances.test.ts tests it.
describeBackendConformance('redis', () => redisFixture(redis.url), {
  fairSharing: true,
  tenantMaxInFlight: true,
  rateLimit: false,
});

// Hostile pass: a job whose start script was under way when a stop came was not waited for: the
// stop saw no call in flight and ended, then the call began, past the grace and never cut off,
// holding BullMQ's close (and so the shutdown) open for as long as the target took.
describe('RedisBackend stopping while a start is under way', () => {
  it('waits for that call as for any in flight', async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let starting = false;
    const backend = backendReplacing(redis, `stopping-${process.pid}`, 'start', (start) => {
      return async (...args) => {
        starting = true;
        await gate;
        return start(...args);
      };
    });
    await backend.open();
    const processor = new ScriptedProcessor();
    backend.start(processor.process);
    const [id] = await admitMany(backend, Date.now(), 1);
    await vi.waitFor(() => expect(starting).toBe(true));
    let stopped = false;
    const stopping = backend.stop(30_000).then(() => {
      stopped = true;
    });
    release();
    await vi.waitFor(() => expect(processor.running.size).toBe(1));
    expect(stopped).toBe(false);
    processor.complete(id as string);
    await stopping;
    expect((await backend.get(id as string))?.status).toBe('completed');
  });
});

// Review: a run stopped before its call began ended, past --max-requeues, saying its upstream
// call "was in flight"; the target never saw it.
describe('RedisBackend stopping before a call began, past --max-requeues', () => {
  it('ends the task saying the call had not begun', async () => {
    const prefix = `before-call-${process.pid}`;
    /** A backend whose start scripts wait for `stop` to have been asked, then run. */
    const stoppedWhileStarting = async (admit: boolean) => {
      let starting = false;
      let release = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const backend = backendReplacing(
        redis,
        prefix,
        'start',
        (start) =>
          async (...args) => {
            starting = true;
            await gate;
            return start(...args);
          },
        1,
      );
      await backend.open();
      backend.start(new ScriptedProcessor().process);
      const ids = admit ? await admitMany(backend, Date.now(), 1) : [];
      await vi.waitFor(() => expect(starting).toBe(true));
      // No grace: the stop cuts the run off at once, before its start script has answered.
      const stopping = backend.stop(0);
      release();
      await stopping;
      return { backend, ids };
    };
    const first = await stoppedWhileStarting(true);
    const id = first.ids[0] as string;
    expect((await first.backend.get(id))?.status).toBe('pending');
    await first.backend.close();

    const second = await stoppedWhileStarting(false);
    const task = await second.backend.get(id);
    expect(task).toMatchObject({ status: 'failed', error: { code: 'interrupted' } });
    expect(task?.error?.message).toMatch(/stopped before its upstream call began/);
    expect(task?.error?.message).not.toMatch(/was in flight/);
  });
});

// Redis pass: a stop in the first seconds of a hang, before any command had timed out, found the
// connections 'ready' and no failure known: BullMQ's close of the worker waited for the job its
// worker asked for on its own connection, which has no timeout, for as long as Redis hung.
describe('RedisBackend closing while Redis hangs, before any command timed out', () => {
  it('drops the connections after one command timeout and ends', { timeout: 60_000 }, async () => {
    // A server of its own: a paused Redis cannot be unpaused, and the next tests need theirs.
    const server = await startRedis();
    onTestFinished(() => server.close());
    const admin = new Redis(server.url);
    onTestFinished(() => admin.disconnect());
    /**
     * When the worker's connections sent each command: BullMQ's, for the worker's jobs, on the
     * connection given to it and on the blocking one it makes of it.
     */
    const workerSent: { at: number; command: Command }[] = [];
    const worker = recordingConnector((command) => {
      workerSent.push({ at: performance.now(), command });
    });
    /** Whether `name` was sent after `after`, its first key ending in `key` (a script's). */
    const sent = (name: string, after = 0, key = '') =>
      workerSent.some(
        ({ at, command }) =>
          at > after && command.name === name && String(command.args[2]).endsWith(key),
      );
    const backend = oneSlotBackend(server.url, `hang-${process.pid}`, {
      commandTimeoutMs: 1_000,
      // Never moved: no sweep runs, so no command of the backend's own times out to tell of it.
      clock: new FakeClock(),
      connect: (url, options) =>
        options.connectionName === 'proxy-server:worker'
          ? worker.connect(url, options)
          : new Redis(url, options),
    });
    await backend.open();
    backend.start(new ScriptedProcessor().process);
    // The idle worker waits for a job on its blocking connection for 5 s, then asks its own
    // connection for one: a command that waits for as long as Redis hangs.
    await vi.waitFor(() => expect(sent('bzpopmin')).toBe(true));
    await admin.call('CLIENT', 'PAUSE', '30000', 'ALL');
    const pausedAt = performance.now();
    // BullMQ's moveToActive script, whose first key is the queue's waiting list.
    await vi.waitFor(() => expect(sent('evalsha', pausedAt, ':tasks:wait')).toBe(true), {
      timeout: 10_000,
      interval: 50,
    });
    const closing = performance.now();
    await backend.close();
    expect(performance.now() - closing).toBeLessThan(3_000);
  });
});

// Redis pass: a write Redis refused (out of memory), with none since, counted at the stop as
// Redis away: the worker of a Redis that answers was closed with force, its jobs left to the
// stall recovery instead of closed cleanly.
describe('RedisBackend closing after Redis refused a write', () => {
  it('closes the worker as on a Redis that answers, without force', async () => {
    const admin = new Redis(redis.url);
    onTestFinished(async () => {
      await admin.config('SET', 'maxmemory', '0');
      admin.disconnect();
    });
    const backend = oneSlotBackend(redis.url, `refused-${process.pid}`);
    redis.open.push(backend);
    await backend.open();
    backend.start(new ScriptedProcessor().process);
    await admin.config('SET', 'maxmemory', '1');
    await expect(backend.admit(newTask(Date.now()))).rejects.toThrow(/saving a new task/);
    await admin.config('SET', 'maxmemory', '0');
    expect((await backend.health()).message).toMatch(/OOM command not allowed/);
    const closes = vi.spyOn(Worker.prototype, 'close');
    onTestFinished(() => closes.mockRestore());
    await backend.close();
    expect(closes).toHaveBeenCalledWith(false);
  });
});
