import { execFileSync } from 'node:child_process';
import {
  chmod,
  link,
  mkdir,
  mkdtemp,
  readdir,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { SqliteRepository } from '../../src/index.js';
import { newTask } from './harness.js';

// Hostile pass: a tasks.db reached through a symbolic or a hard link let a second proxy open
// the database past the first one's data-dir lock (tasks in flight read `interrupted`, then
// writes failed on UNIQUE constraints); a directory in tasks.db's place was refused with
// libsql's "ConnectionFailed ... 14".

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'proxy-files-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The message a repository on `dir` is refused with at open, or null when it opens. */
function refusal(dir: string): string | null {
  const repository = new SqliteRepository({ dataDir: dir, synchronous: 'normal' });
  try {
    repository.open();
    repository.close();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** A task database another proxy made in `dir`, closed again. */
async function madeDatabase(dir: string): Promise<string> {
  expect(refusal(dir)).toBeNull();
  return join(dir, 'tasks.db');
}

describe('the files in the data dir', () => {
  // Operator pass: a data dir that is a symbolic link to nothing said "not writable: ENOENT".
  it('names a data dir that is a symbolic link to nothing', async () => {
    const dir = await dataDir();
    const dangling = join(dir, 'data');
    await symlink(join(dir, 'nowhere'), dangling);
    expect(refusal(dangling)).toBe(
      `cannot create the data dir ${dangling}: ${dangling} is a symbolic link to ${join(dir, 'nowhere')}, which does not exist`,
    );
  });

  it('refuses a tasks.db that is a symbolic link, naming it', async () => {
    const real = await madeDatabase(await dataDir());
    const dir = await dataDir();
    await symlink(real, join(dir, 'tasks.db'));
    expect(refusal(dir)).toBe(
      `${join(dir, 'tasks.db')} is a symbolic link: keep the file itself in the data dir, whose lock covers it, or point --data-dir at the directory it is in`,
    );
  });

  it('refuses a tasks.db with a second name (a hard link), and leaves it as it was', async () => {
    const real = await madeDatabase(await dataDir());
    const dir = await dataDir();
    await link(real, join(dir, 'tasks.db'));
    const before = await stat(real);
    expect(refusal(dir)).toBe(
      `${join(dir, 'tasks.db')} has 2 names (hard links): another proxy could open it under one of them past this data dir's lock; give it one name`,
    );
    expect((await stat(real)).mtimeMs).toBe(before.mtimeMs);
  });

  it('refuses a directory in the place of tasks.db or of the lock file', async () => {
    const dir = await dataDir();
    await mkdir(join(dir, 'tasks.db'));
    expect(refusal(dir)).toBe(
      `${join(dir, 'tasks.db')} is a directory, not a file: move it out of the data dir, where the proxy makes its own`,
    );
    const other = await dataDir();
    await mkdir(join(other, 'proxy-server.lock'));
    expect(refusal(other)).toBe(
      `${join(other, 'proxy-server.lock')} is a directory, not a file: move it out of the data dir, where the proxy makes its own`,
    );
    const third = await dataDir();
    execFileSync('mkfifo', [join(third, 'tasks.db-wal')]);
    expect(refusal(third)).toBe(
      `${join(third, 'tasks.db-wal')} is a named pipe, not a file: move it out of the data dir, where the proxy makes its own`,
    );
  });

  // Operator pass: the refusal named the problem, and only troubleshooting.md the fix.
  it('says to remove a lock file something else was written over', async () => {
    const dir = await dataDir();
    await writeFile(
      join(dir, 'proxy-server.lock'),
      'not a database, but long enough to read'.repeat(20),
    );
    expect(refusal(dir)).toMatch(
      new RegExp(
        `^cannot lock the data dir ${dir} \\(${join(dir, 'proxy-server.lock')}\\): .*not a database.*; with no proxy running on the dir, remove ${join(dir, 'proxy-server.lock')} \\(never tasks\\.db\\): the next start makes it again$`,
      ),
    );
  });

  it('opens a data dir whose files are its own, beside files of others', async () => {
    const dir = await dataDir();
    await writeFile(join(dir, 'unrelated.txt'), 'kept');
    await madeDatabase(dir);
    expect(refusal(dir)).toBeNull();
  });

  // Hostile pass: with the usual umask 022, tasks.db (the requests' headers, the target's
  // credentials among them) was readable by every user of the machine.
  it('makes the data dir and its files for their owner alone, and leaves a mode it finds', async () => {
    const parent = await dataDir();
    const dir = join(parent, 'made', 'data');
    // Hostile pass: under umask 000 the parents made on the way were 0777.
    const previous = process.umask(0o000);
    onTestFinished(() => void process.umask(previous));
    const repository = new SqliteRepository({ dataDir: dir, synchronous: 'normal' });
    repository.open();
    // The write-ahead log is made by the first write.
    repository.insert(1, newTask(0));
    repository.commit();
    const modeOf = async (path: string) => (await stat(path)).mode & 0o777;
    try {
      expect(await modeOf(dir)).toBe(0o700);
      expect(await modeOf(join(parent, 'made'))).toBe(0o755);
      const files = ['tasks.db', 'tasks.db-wal', 'tasks.db-shm', 'proxy-server.lock'];
      for (const file of files) {
        expect([file, await modeOf(join(dir, file))]).toEqual([file, 0o600]);
      }
      // New-user pass: the lock's journal sat there too, a file the docs did not name.
      expect((await readdir(dir)).sort()).toEqual(files.sort());
    } finally {
      repository.close();
    }
    // Review: one left by an earlier version, killed while it held the lock, stayed for good.
    await writeFile(join(dir, 'proxy-server.lock-journal'), '');
    const again = new SqliteRepository({ dataDir: dir, synchronous: 'normal' });
    again.open();
    try {
      expect(await readdir(dir)).not.toContain('proxy-server.lock-journal');
    } finally {
      again.close();
    }
    const shared = await dataDir();
    await chmod(shared, 0o750);
    await writeFile(join(shared, 'tasks.db'), '', { mode: 0o640 });
    expect(refusal(shared)).toBeNull();
    expect(await modeOf(shared)).toBe(0o750);
    expect(await modeOf(join(shared, 'tasks.db'))).toBe(0o640);
  });
});
