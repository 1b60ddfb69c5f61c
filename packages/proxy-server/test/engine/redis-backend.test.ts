import { describe, expect, it, vi } from 'vitest';
import { describeBackendConformance } from './conformance.js';
import { admitMany, ScriptedProcessor } from './harness.js';
import { backendReplacing, redisFixture, redisPerFile } from './redis-fixture.js';

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
