import { afterEach, describe, expect, it, vi } from 'vitest';
import { retryPolicy } from '../../src/engine/retry-policy.js';
import { DEFAULT_POLICY, type TaskPolicy } from '../../src/engine/task-record.js';
import type { TaskBackend, TaskOutcome } from '../../src/index.js';
import type { BackendFixture, BackendSettings } from '../engine/conformance.js';
import { completed, newTask, ScriptedProcessor } from '../engine/harness.js';
import { localFixture } from '../engine/local-fixture.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const busy: TaskOutcome = { ...completed('busy', 503), retryAfterMs: 4_000 };

let fixture: BackendFixture;
const open: TaskBackend[] = [];

/** A backend on a store of `kind` (a fresh one for the test, the same one after a crash). */
async function started(kind: 'memory' | 'sqlite', settings: Partial<BackendSettings>) {
  fixture ??= await localFixture(kind);
  const { backend } = fixture.create({
    concurrency: 1,
    maxQueueSize: 100,
    maxTasks: null,
    longTaskThresholdMs: 60_000,
    maxRequeues: 0,
    ...settings,
  });
  await backend.open();
  open.push(backend);
  const processor = new ScriptedProcessor();
  backend.start(processor.process);
  return { backend, processor };
}

async function admit(backend: TaskBackend, policy: Partial<TaskPolicy> = {}) {
  const task = newTask(fixture.clock.now(), 'step', { policy: { ...DEFAULT_POLICY, ...policy } });
  const answer = await backend.admit(task);
  if (!answer.ok) throw new Error(`refused: ${answer.reason}`);
  return task.id;
}

const retryEverySecondOn503 = () =>
  retryPolicy({
    retryOn: { statuses: new Set([503]), errors: new Set() },
    minDelayMs: 1_000,
    maxDelayMs: 1_000,
  });

afterEach(async () => {
  for (const backend of open.splice(0)) await backend.close().catch(() => undefined);
  await fixture?.dispose();
  fixture = undefined as unknown as BackendFixture;
});

// Review: the queue measured deadlines, retry times and the rate limit on the wall clock, so a
// step of it (NTP, a VM resumed after a day, a date set back) expired every queued task at once,
// or held retries and every call under --max-rps back for as long as the step.
describe.each(['memory', 'sqlite'] as const)('a step of the wall clock (%s)', (kind) => {
  it('forward a day expires no queued task before its time has really passed', async () => {
    const { backend, processor } = await started(kind, {});
    const first = await admit(backend);
    const queued = await admit(backend, { deadlineAt: fixture.clock.now() + 60_000 });
    await vi.waitFor(() => expect(processor.running.has(first)).toBe(true));
    fixture.clock.stepWall(DAY_MS);
    fixture.clock.advance(1_000);
    processor.complete(first);
    await vi.waitFor(() => expect(processor.running.has(queued)).toBe(true));
    expect((await backend.counts()).expired).toBe(0);
  });

  it('back an hour still expires a queued task once its time has really passed', async () => {
    const { backend, processor } = await started(kind, {});
    const first = await admit(backend);
    const queued = await admit(backend, { deadlineAt: fixture.clock.now() + 60_000 });
    await vi.waitFor(() => expect(processor.running.has(first)).toBe(true));
    fixture.clock.stepWall(-HOUR_MS);
    fixture.clock.advance(60_000);
    await vi.waitFor(async () => expect((await backend.get(queued))?.status).toBe('expired'));
  });

  it('back an hour holds a retry back no longer than its wait', async () => {
    const retry = retryEverySecondOn503();
    const { backend, processor } = await started(kind, { retry });
    const id = await admit(backend, { maxAttempts: 2 });
    await vi.waitFor(() => expect(processor.running.has(id)).toBe(true));
    processor.complete(id, busy);
    await vi.waitFor(async () => expect((await backend.get(id))?.attempts).toBe(1));
    await vi.waitFor(async () => expect((await backend.counts()).retrying).toBe(1));
    fixture.clock.stepWall(-HOUR_MS);
    fixture.clock.advance(4_000);
    await vi.waitFor(() => expect(processor.running.has(id)).toBe(true));
  });

  it('back an hour holds calls under the rate limit back no longer than a token takes', async () => {
    const { backend, processor } = await started(kind, {
      concurrency: 10,
      rateLimit: { perSecond: 1, burst: 1 },
    });
    processor.autoOutcome = completed('x');
    await admit(backend);
    await vi.waitFor(() => expect(processor.jobs).toHaveLength(1));
    fixture.clock.stepWall(-HOUR_MS);
    await admit(backend);
    fixture.clock.advance(1_000);
    await vi.waitFor(() => expect(processor.jobs).toHaveLength(2));
  });

  it('forward a day marks no call long that has not run past the threshold', async () => {
    const { backend, processor } = await started(kind, {});
    const id = await admit(backend);
    await vi.waitFor(() => expect(processor.running.has(id)).toBe(true));
    fixture.clock.stepWall(DAY_MS);
    expect((await backend.counts()).long).toBe(0);
    processor.complete(id);
    await vi.waitFor(async () => expect((await backend.get(id))?.status).toBe('completed'));
    expect((await backend.get(id))?.isLong).toBe(false);
  });
});

// Review: a start converted each stored deadline and retry time to a wait by the wall clock as it
// read at the start. A clock a day behind then (a machine up before NTP set it, a dead RTC) held a
// retry due in seconds back for a day, and kept a queued task's deadline a day longer.
describe('a start with the wall clock behind the one the store was written by (sqlite)', () => {
  it('waits no longer for a retry than the wait it was given', async () => {
    const retry = retryEverySecondOn503();
    const before = await started('sqlite', { retry });
    const id = await admit(before.backend, { maxAttempts: 2 });
    await vi.waitFor(() => expect(before.processor.running.has(id)).toBe(true));
    before.processor.complete(id, busy);
    await vi.waitFor(async () => expect((await before.backend.counts()).retrying).toBe(1));
    await fixture.crash(before.backend);
    fixture.clock.stepWall(-DAY_MS);
    const after = await started('sqlite', { retry });
    expect(after.processor.running.has(id)).toBe(false);
    fixture.clock.advance(4_000);
    await vi.waitFor(() => expect(after.processor.running.has(id)).toBe(true));
  });

  it('expires a queued task once the time it was given has passed', async () => {
    const before = await started('sqlite', {});
    const first = await admit(before.backend);
    const second = await admit(before.backend);
    const timed = await admit(before.backend, { deadlineAt: fixture.clock.now() + 60_000 });
    await vi.waitFor(() => expect(before.processor.running.has(first)).toBe(true));
    await fixture.crash(before.backend);
    fixture.clock.stepWall(-DAY_MS);
    const after = await started('sqlite', {});
    await vi.waitFor(() => expect(after.processor.running.has(second)).toBe(true));
    expect((await after.backend.get(timed))?.status).toBe('pending');
    fixture.clock.advance(60_000);
    await vi.waitFor(async () => expect((await after.backend.get(timed))?.status).toBe('expired'));
  });
});
