import { describe, expect, it, vi } from 'vitest';
import { describeBackendConformance } from './conformance.js';
import { admitMany, ScriptedProcessor } from './harness.js';
import { backendReplacing, redisFixture, redisPerFile } from './redis-fixture.js';

const redis = redisPerFile();

// Fair sharing is refused with --store redis (config.test.ts); the rate limit is BullMQ's, on
// real time rather than the fixture's clock, and redis-instances.test.ts tests it.
describeBackendConformance('redis', () => redisFixture(redis.url), {
  fairSharing: false,
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
