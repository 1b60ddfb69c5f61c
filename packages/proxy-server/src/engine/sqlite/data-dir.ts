import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'libsql';

/**
 * The data directory cannot be used as it is: missing and not creatable, not writable, held by
 * another proxy, or holding a file this proxy must not touch. Refused at start with this one
 * line (exit 2); nothing in the directory is changed.
 */
export class DataDirError extends Error {
  override readonly name = 'DataDirError';
}

export function isDataDirError(error: unknown): error is DataDirError {
  return error instanceof Error && error.name === 'DataDirError';
}

/** The lock file's name in the data dir; a small SQLite file whose lock says "in use". */
export const LOCK_FILE = 'proxy-server.lock';

/** Held for the life of the process; released by `release()` or by the process ending. */
export interface DataDirLock {
  release(): void;
}

/** Creates the directory if needed and checks that this process may write there. */
export function prepareDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new DataDirError(`cannot create the data dir ${dir}: ${reasonOf(error)}`);
  }
  try {
    accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new DataDirError(`the data dir ${dir} is not writable: ${reasonOf(error)}`);
  }
}

/**
 * Takes the data dir for this process. The lock is SQLite's own exclusive lock on a file of its
 * own, held until the connection closes: the operating system drops it when the process dies,
 * even by `kill -9`, so a crash never leaves a stale lock behind, and the task database itself
 * stays open to readers such as a backup.
 */
export function lockDataDir(dir: string): DataDirLock {
  const path = join(dir, LOCK_FILE);
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: 0 });
  } catch (error) {
    throw new DataDirError(`cannot open the lock file ${path}: ${reasonOf(error)}`);
  }
  try {
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER)');
    db.exec(
      `BEGIN EXCLUSIVE; DELETE FROM holder; INSERT INTO holder VALUES (${process.pid}); COMMIT`,
    );
  } catch (error) {
    db.close();
    if (codeOf(error) === 'SQLITE_BUSY') {
      throw new DataDirError(
        `the data dir ${dir} is in use by another proxy-server; give this one its own --data-dir`,
      );
    }
    throw new DataDirError(`cannot lock the data dir ${dir} (${path}): ${reasonOf(error)}`);
  }
  return { release: () => db.close() };
}

export function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

export function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
