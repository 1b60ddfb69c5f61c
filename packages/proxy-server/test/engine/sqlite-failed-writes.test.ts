import { renameSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'libsql';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import {
  DEFAULT_POLICY,
  LocalBackend,
  type LocalBackendOptions,
  SqliteRepository,
} from '../../src/index.js';
import { FakeClock, newTask } from './harness.js';
import { oneSlotSqliteBackend } from './local-fixture.js';

// Code review: writes the store refused were saved all the same. A statement that made SQLite
// roll back the whole transaction let the next writes of the same turn run outside it, each
// committed on its own; a write of two statements kept its first when the second failed. The
// callers heard 503, and after a restart their tasks ran.

const ORIGINAL = '00000000-0000-4000-8000-0000000000aa';

/** A data dir whose database fails the writes `trigger` (SQL) makes fail. */
async function dataDirFailing(trigger: string) {
  const dataDir = await mkdtemp(join(tmpdir(), 'proxy-failed-writes-'));
  onTestFinished(() => rm(dataDir, { recursive: true, force: true }));
  const first = backendOn(dataDir);
  await first.open();
  await first.admit({ ...newTask(0, 'original'), id: ORIGINAL });
  await first.close();
  const db = new Database(join(dataDir, 'tasks.db'));
  db.exec(trigger);
  db.close();
  return dataDir;
}

/**
 * A data dir whose database fails a retry's link to ORIGINAL: with ROLLBACK the whole
 * transaction goes, as on a full disk; with ABORT the statement alone.
 */
function linkToOriginalFailing(raise: 'ROLLBACK' | 'ABORT') {
  return dataDirFailing(
    `CREATE TRIGGER fail BEFORE UPDATE OF retried_as ON tasks WHEN OLD.id = '${ORIGINAL}'
     BEGIN SELECT RAISE(${raise}, 'the write failed'); END;`,
  );
}

function backendOn(dataDir: string, options: Partial<LocalBackendOptions> = {}) {
  return new LocalBackend(new SqliteRepository({ dataDir, synchronous: 'normal' }), {
    concurrency: 1,
    maxQueueSize: 100,
    longTaskThresholdMs: 60_000,
    maxRequeues: 0,
    clock: new FakeClock(),
    ...options,
  });
}

/** What a restart finds of each task: its status, or 'absent'. */
async function afterRestart(dataDir: string, ids: string[]) {
  const again = backendOn(dataDir);
  await again.open();
  const found = [];
  for (const id of ids) found.push((await again.get(id))?.status ?? 'absent');
  await again.close();
  return found;
}

/** Three admissions in one turn, the second a retry of ORIGINAL. */
async function admitAroundARetry(backend: LocalBackend) {
  const tasks = [newTask(0, 'a'), newTask(0, 'b', { retryOf: ORIGINAL }), newTask(0, 'c')];
  const settled = await Promise.allSettled(tasks.map((task) => backend.admit(task)));
  return { tasks, settled };
}

const answers = (settled: PromiseSettledResult<{ ok: boolean }>[]) =>
  settled.map((one) => (one.status === 'rejected' ? 'refused' : one.value.ok ? 'ok' : 'no'));

describe('writes the SQLite store refused', () => {
  it('a failure that rolls back the transaction: no write of that turn is kept', async () => {
    const dataDir = await linkToOriginalFailing('ROLLBACK');
    const backend = backendOn(dataDir);
    await backend.open();
    const { tasks, settled } = await admitAroundARetry(backend);
    expect(answers(settled)).toEqual(['refused', 'refused', 'refused']);
    await backend.close();
    expect(
      await afterRestart(
        dataDir,
        tasks.map((task) => task.id),
      ),
    ).toEqual(['absent', 'absent', 'absent']);
  });

  it('a failure that rolls back the transaction, alone in its turn: the next turn writes again', async () => {
    const dataDir = await linkToOriginalFailing('ROLLBACK');
    const backend = backendOn(dataDir);
    await backend.open();
    await expect(backend.admit(newTask(0, 'b', { retryOf: ORIGINAL }))).rejects.toThrow();
    // Review: nothing was left to commit, so the lost transaction was never settled and every
    // later write failed with its error, until a restart.
    await new Promise((resolve) => setImmediate(resolve));
    const next = newTask(0, 'next');
    expect(await backend.admit(next)).toMatchObject({ ok: true });
    await backend.close();
    expect(await afterRestart(dataDir, [next.id])).toEqual(['pending']);
  });

  it('a retry whose link to its original fails: neither is written, the others are', async () => {
    const dataDir = await linkToOriginalFailing('ABORT');
    const backend = backendOn(dataDir);
    await backend.open();
    const { tasks, settled } = await admitAroundARetry(backend);
    expect(answers(settled)).toEqual(['ok', 'refused', 'ok']);
    expect((await backend.counts()).pending).toBe(3);
    await backend.close();
    expect(
      await afterRestart(
        dataDir,
        tasks.map((task) => task.id),
      ),
    ).toEqual(['pending', 'absent', 'pending']);
  });

  it('a newcomer to a full queue that cannot be written sheds no task', async () => {
    const urgent = newTask(0, 'urgent', { policy: { ...DEFAULT_POLICY, priority: 'high' } });
    const dataDir = await dataDirFailing(
      `CREATE TRIGGER fail BEFORE INSERT ON tasks WHEN NEW.id = '${urgent.id}'
       BEGIN SELECT RAISE(ABORT, 'constraint failed'); END;`,
    );
    const backend = backendOn(dataDir, { maxQueueSize: 2 });
    await backend.open();
    const low = newTask(0, 'low', { policy: { ...DEFAULT_POLICY, priority: 'low' } });
    expect(await backend.admit(low)).toMatchObject({ ok: true });
    await expect(backend.admit(urgent)).rejects.toThrow(/saving a new task/);
    expect(await backend.get(low.id)).toMatchObject({ status: 'pending' });
    expect((await backend.counts()).pending).toBe(2);
    await backend.close();
    expect(await afterRestart(dataDir, [low.id])).toEqual(['pending']);
  });
});

describe('a cancel the store refused', () => {
  it('of a task in flight: its call was aborted, and the task ends cancelled all the same', async () => {
    const { backend, repository, processor, clock } = await oneSlotSqliteBackend((inner) => inner, {
      onError: () => undefined,
    });
    const task = newTask(clock.now(), 'long');
    await backend.admit(task);
    await vi.waitFor(() => expect(processor.running.has(task.id)).toBe(true));
    // The file moved away under the proxy: the cancel's commit fails, then the file is back.
    renameSync(repository.location, `${repository.location}.away`);
    await expect(backend.cancel(task.id)).rejects.toThrow(/was removed or replaced/);
    renameSync(`${repository.location}.away`, repository.location);
    const finished = backend.waitForFinish(task.id, new AbortController().signal);
    await vi.waitFor(async () => {
      clock.advance(1_000);
      expect(await backend.get(task.id)).toMatchObject({ status: 'cancelled' });
    });
    expect(await finished).toMatchObject({ status: 'cancelled' });
    expect((await backend.counts()).processing).toBe(0);
  });
});
