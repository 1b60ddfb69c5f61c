import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { isDataDirError, LocalBackend, SqliteRepository } from '../../src/index.js';
import { FakeClock, newTask } from './harness.js';
import { oneSlotOptions } from './local-fixture.js';

// Operator pass: started on a full file system (a 1 MiB tmpfs filled with dd), the proxy exited
// with "cannot open the task database .../tasks.db: disk I/O error", or with "cannot lock the
// data dir ...: database or disk is full": neither said that the disk was the data dir's, that
// it was full, nor what to do. SQLite's failures are played here as a full tmpfs gave them.

/** The SQL statement made to fail, and how: as SQLite failed it on the full file system. */
const failing = vi.hoisted(() => ({ statement: '', code: '', message: '' }));

vi.mock('libsql', async (importOriginal) => {
  const { default: Database } = await importOriginal<{ default: typeof import('libsql') }>();
  const failIfMeant = (sql: string) => {
    if (failing.statement !== '' && sql.startsWith(failing.statement)) {
      throw Object.assign(new Error(failing.message), { code: failing.code });
    }
  };
  class FullDiskDatabase extends Database {
    override exec(sql: string): this {
      failIfMeant(sql);
      return super.exec(sql);
    }

    // Prepared at open and run later: whether the statement fails is asked at each run.
    // biome-ignore lint/complexity/noBannedTypes: libsql's own signature, which an override repeats
    override prepare<P extends unknown[] | {} = unknown[]>(sql: string) {
      const statement = super.prepare<P>(sql);
      const { run } = statement;
      return Object.assign(statement, {
        run: (...params: unknown[]): unknown => {
          failIfMeant(sql);
          return Reflect.apply(run, statement, params);
        },
      });
    }
  }
  return { default: FullDiskDatabase };
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'proxy-full-disk-'));
  onTestFinished(() => {
    failing.statement = '';
    return rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/** The message a repository on `dir` is refused with at open. */
function refusal(dir: string): string {
  const repository = new SqliteRepository({ dataDir: dir, synchronous: 'normal' });
  try {
    repository.open();
  } catch (error) {
    return (error as Error).message;
  }
  repository.close();
  throw new Error(`opened ${dir}, though its file system was made full`);
}

const fullLine = (dir: string, reason: string) =>
  new RegExp(
    `^the file system of the data dir ${dir} is full \\(${reason}; \\d+ KiB free\\): make room on it \\(df -h shows how much is left\\), or choose another --data-dir$`,
  );

describe('a data dir on a full file system', () => {
  it.each([
    [
      'the -shm file cannot grow',
      'PRAGMA journal_mode = WAL',
      'SQLITE_IOERR_SHMSIZE',
      'disk I/O error',
    ],
    [
      'the lock file cannot be written',
      'BEGIN EXCLUSIVE',
      'SQLITE_FULL',
      'database or disk is full',
    ],
  ])("says so when %s, not only SQLite's words", async (_when, statement, code, message) => {
    const dir = await dataDir();
    Object.assign(failing, { statement, code, message });
    expect(refusal(dir)).toMatch(fullLine(dir, message));
  });
});

// Operator pass: restarted on its data dir after the disk filled (a tasks.db there, a task left
// processing), the proxy exited 1 with "cannot start: database or disk is full": the recovery's
// writes, committed after the database opened, were not worded as a full disk. Their commit is
// the first write to the log, the one a full disk fails.
describe('a restart on a full file system', () => {
  it.each([
    ['requeues', 1],
    ['ends', 0],
  ])(
    'says so when the task left processing it %s cannot be written',
    async (_recovery, maxRequeues) => {
      const dir = await dataDir();
      const clock = new FakeClock();
      const before = new SqliteRepository({ dataDir: dir, synchronous: 'normal' });
      before.open();
      const task = newTask(clock.now());
      before.insert(1, task);
      before.start(task.id, clock.now());
      before.commit();
      before.close();

      const backend = new LocalBackend(
        new SqliteRepository({ dataDir: dir, synchronous: 'normal' }),
        { ...oneSlotOptions(clock), maxRequeues },
      );
      Object.assign(failing, {
        statement: 'COMMIT',
        code: 'SQLITE_FULL',
        message: 'database or disk is full',
      });
      const refused = await backend.open().then(
        () => undefined,
        (error: unknown) => error,
      );
      await backend.close();
      expect((refused as Error).message).toMatch(fullLine(dir, 'database or disk is full'));
      // What the bin refuses with exit 2 (bin.test: a data dir in use), as at open.
      expect(isDataDirError(refused)).toBe(true);
    },
  );
});
