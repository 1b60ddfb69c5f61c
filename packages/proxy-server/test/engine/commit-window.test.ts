import { describe, expect, it, vi } from 'vitest';
import type { AttemptRecord } from '../../src/engine/task-record.js';
import {
  DEFAULT_POLICY,
  type RetryDecision,
  type StartedRow,
  type SummaryRow,
  type TaskOutcome,
} from '../../src/index.js';
import { admitMany, completed, FaultyRepository, newTask } from './harness.js';
import { oneSlotSqliteBackend } from './local-fixture.js';

// Hostile pass, SQLite only: a cancel that came while a start or a retry was written but not yet
// committed (SQLite groups commits into the next turn) was lost on the backend's side. A
// cancelled start kept its slot for good: with every slot taken so, the queue stalled and a
// shutdown waited out its grace. A cancelled retry joined the line anyway, counted against
// --max-queue-size until its time came.

/** Runs `then` right after a start or a retry is written, before the turn's commit. */
class WindowRepository extends FaultyRepository {
  afterStart: ((id: string) => void) | null = null;
  afterRetry: ((id: string) => void) | null = null;

  override start(id: string, startedAt: number): StartedRow | undefined {
    const row = super.start(id, startedAt);
    const then = this.afterStart;
    if (row && then) queueMicrotask(() => then(id));
    return row;
  }

  override retry(
    id: string,
    attempt: AttemptRecord,
    runAt: number,
    order: number,
  ): SummaryRow | undefined {
    const row = super.retry(id, attempt, runAt, order);
    const then = this.afterRetry;
    if (row && then) queueMicrotask(() => then(id));
    return row;
  }
}

describe('a cancel between a write and its commit (SQLite)', () => {
  it('of a start: no call, and the slot goes to the next task', async () => {
    const { backend, repository, processor, clock } = await oneSlotSqliteBackend(
      (inner) => new WindowRepository(inner),
    );
    const [first, second, third] = await admitMany(backend, clock.now(), 3);
    await vi.waitFor(() => expect([...processor.running.keys()]).toEqual([first]));
    // The next start is written when the first call ends, and committed a turn later.
    const cancels: Promise<unknown>[] = [];
    repository.afterStart = (id) => {
      repository.afterStart = null;
      cancels.push(backend.cancel(id));
    };
    processor.complete(first as string);
    await vi.waitFor(() => expect(cancels).toHaveLength(1));
    expect(await cancels[0]).toMatchObject({ ok: true, task: { id: second, status: 'cancelled' } });
    await vi.waitFor(() => expect([...processor.running.keys()]).toEqual([third]));
    expect(processor.jobs.map((job) => job.id)).toEqual([first, third]);
  });

  it('of a retry: the task joins no line, and counts as neither queued nor retrying', async () => {
    const retry: RetryDecision = (outcome) => (outcome.result?.statusCode === 503 ? 1_000 : null);
    const { backend, repository, processor, clock } = await oneSlotSqliteBackend(
      (inner) => new WindowRepository(inner),
      { retry },
    );
    const cancels: Promise<unknown>[] = [];
    repository.afterRetry = (id) => {
      cancels.push(backend.cancel(id));
    };
    const task = newTask(clock.now(), 'flaky', { policy: { ...DEFAULT_POLICY, maxAttempts: 3 } });
    expect(await backend.admit(task)).toMatchObject({ ok: true });
    await vi.waitFor(() => expect(processor.running.size).toBe(1));
    const busy: TaskOutcome = completed('busy', 503);
    processor.complete(task.id, busy);
    await vi.waitFor(() => expect(cancels).toHaveLength(1));
    expect(await cancels[0]).toMatchObject({ ok: true, task: { status: 'cancelled' } });
    expect(await backend.counts()).toMatchObject({ queued: 0, retrying: 0, cancelled: 1 });
    clock.advance(1_000);
    // A start would reach the processor after the next turn's commit.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(processor.jobs).toHaveLength(1);
  });
});
