import {
  accessSync,
  closeSync,
  constants,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  readSync,
  rmSync,
  type Stats,
  statfsSync,
  statSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'libsql';
import { APPLICATION_ID } from './schema.js';

/**
 * The data directory cannot be used as it is: missing and not creatable, not writable, held by
 * another proxy, or holding a file this proxy must not touch. Refused at start with this one
 * line (exit 2); nothing in the directory is changed.
 */
export class DataDirError extends Error {
  override readonly name = 'DataDirError';
  /** The directory itself cannot be made or written: another one is the way out. */
  readonly dirUnusable: boolean;

  constructor(message: string, options?: { dirUnusable?: boolean }) {
    super(message);
    this.dirUnusable = options?.dirUnusable ?? false;
  }
}

export function isDataDirError(error: unknown): error is DataDirError {
  return error instanceof Error && error.name === 'DataDirError';
}

/** The lock file's name in the data dir; a small SQLite file whose lock says "in use". */
export const LOCK_FILE = 'proxy-server.lock';
/** The task database's name in the data dir (with its `-wal` and `-shm` companions). */
export const DATABASE_FILE = 'tasks.db';

/** Held for the life of the process; released by `release()` or by the process ending. */
export interface DataDirLock {
  /** A task database was opened in this dir before (by this build or a later one). */
  readonly storeMade: boolean;
  /** Records, in the lock file, that the dir's task database has been made. */
  markStoreMade(): void;
  release(): void;
}

/** Creates the directory if needed and checks that this process may write there. */
export function prepareDataDir(dir: string): void {
  try {
    makeDirs(dir);
  } catch (error) {
    throw new DataDirError(`cannot create the data dir ${dir}: ${reasonOf(error)}`, {
      dirUnusable: true,
    });
  }
  const lacked = lackedPermissions(dir, ['r', 'w', 'x']);
  if (lacked.length > 0) {
    throw new DataDirError(
      `the data dir ${dir} is ${notAllowed(lacked)} by this user (${whoLacks(dir, lacked)}), so ${LOCK_FILE} and ${DATABASE_FILE} cannot be kept in it`,
      { dirUnusable: true },
    );
  }
}

const ACCESS_MODES = { r: constants.R_OK, w: constants.W_OK, x: constants.X_OK } as const;
type Permission = keyof typeof ACCESS_MODES;

/** The permissions among `wanted` that this process lacks on `path`. */
function lackedPermissions(path: string, wanted: readonly Permission[]): Permission[] {
  return wanted.filter((permission) => {
    try {
      accessSync(path, ACCESS_MODES[permission]);
      return false;
    } catch {
      return true;
    }
  });
}

/** What a path lacking these permissions is, the gravest first: `w` is what the proxy needs most. */
function notAllowed(lacked: readonly Permission[]): string {
  if (lacked.includes('w')) return 'not writable';
  return lacked.includes('r') ? 'not readable' : 'not searchable';
}

/**
 * Who this process is, whose `path` is and its mode: whether a chown or a chmod is the way out
 * (a dir or file restored as root is another user's; one of this user's may have lost its `w`).
 */
function whoLacks(path: string, lacked: readonly Permission[]): string {
  const { uid, mode } = statSync(path);
  const self = process.getuid?.();
  const owner = uid === self ? 'this user' : `uid ${uid}`;
  const octal = (mode & 0o777).toString(8).padStart(3, '0');
  const needed =
    lacked.length <= 1 ? lacked.join('') : `${lacked.slice(0, -1).join(', ')} and ${lacked.at(-1)}`;
  return `uid ${self ?? '?'}; it needs ${needed} on it, owned by ${owner} with mode 0${octal}`;
}

/**
 * Checks a file the proxy keeps in its data dir (the task database and its `-wal` and `-shm`
 * files, the lock file), when it is there: a regular file of one name, which this process may
 * read and write. Under another name (a symbolic or a hard link) a second proxy could open the
 * same database past this data dir's lock; one it cannot write would fail every submission.
 */
export function checkDataFile(path: string): void {
  let stats: ReturnType<typeof lstatSync>;
  try {
    stats = lstatSync(path);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return;
    throw new DataDirError(`cannot read ${path}: ${reasonOf(error)}`);
  }
  if (stats.isSymbolicLink()) {
    throw new DataDirError(
      `${path} is a symbolic link: keep the file itself in the data dir, whose lock covers it, or point --data-dir at the directory it is in`,
    );
  }
  if (!stats.isFile()) {
    throw new DataDirError(
      `${path} is ${kindOf(stats)}, not a file: move it out of the data dir, where the proxy makes its own`,
    );
  }
  if (stats.nlink > 1) {
    throw new DataDirError(
      `${path} has ${stats.nlink} names (hard links): another proxy could open it under one of them past this data dir's lock; give it one name`,
    );
  }
  const lacked = lackedPermissions(path, ['r', 'w']);
  if (lacked.length > 0) {
    throw new DataDirError(
      `${path} is ${notAllowed(lacked)} by this user (${whoLacks(path, lacked)})`,
    );
  }
}

function kindOf(stats: Stats): string {
  if (stats.isFile()) return 'a file';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a named pipe';
  if (stats.isSocket()) return 'a socket';
  return 'a device';
}

/**
 * Creates `path` readable by its owner alone, unless it is there already: the task database
 * holds the requests' headers (the target's credentials among them) and the answers. SQLite
 * gives the `-wal` and `-shm` files the database's mode. A file that is there keeps its mode.
 */
export function createPrivateFile(path: string): void {
  try {
    closeSync(openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600));
  } catch (error) {
    if (codeOf(error) !== 'EEXIST') {
      throw new DataDirError(
        isNoRoomError(error)
          ? noRoomMessage(dirname(path), error)
          : `cannot create ${path}: ${reasonOf(error)}`,
      );
    }
  }
}

/**
 * `mkdir -p`, one level at a time from the root down. Node's recursive mkdirSync retries a level
 * that fails with ENOENT after creating its parent, forever when the parent exists yet refuses
 * children (under /proc): here the first failure is final. Its errors say only ENOTDIR or EACCES
 * for the path asked for; each level is looked at here so that the refusal names the one in the
 * way (a file, a link to nothing, a dir this user may not enter or write).
 */
function makeDirs(dir: string): void {
  const target = resolve(dir);
  const levels: string[] = [];
  for (let path = target; ; path = dirname(path)) {
    levels.unshift(path);
    if (dirname(path) === path) break;
  }
  for (const path of levels) {
    if (isDirectoryAt(path, target)) continue;
    try {
      // The data dir itself only for its owner, as its files; a parent made here writable by
      // no one else, whatever the umask, or another user could swap the data dir inside it.
      mkdirSync(path, path === target ? 0o700 : 0o755);
    } catch (error) {
      const code = codeOf(error);
      if (code === 'EACCES' || code === 'EPERM') {
        throw new Error(
          `${dirname(path)} is not writable by this user (uid ${process.getuid?.() ?? '?'}), so ${path} cannot be made in it`,
        );
      }
      // Made meanwhile by someone else is as good; anything else there is refused as above.
      if (code !== 'EEXIST' || !isDirectoryAt(path, target)) throw error;
    }
  }
}

/**
 * Whether a directory is at `path`, a level of `target` (false: nothing is); throws, naming
 * `path` or its parent, when something there keeps the data dir from being made or used. Asked
 * level by level from the root, so every level above is a directory: an EACCES is the parent's.
 */
function isDirectoryAt(path: string, target: string): boolean {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (error) {
    const code = codeOf(error);
    if (code === 'EACCES') {
      throw new Error(
        `${dirname(path)} is not searchable by this user (uid ${process.getuid?.() ?? '?'}; it needs the x permission on it)`,
      );
    }
    if (code === 'ELOOP') throw new Error(`${path} is a symbolic link in a loop`);
    if (code !== 'ENOENT') throw error;
    // A symbolic link to nothing: stat follows it, mkdir does not.
    if (lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) {
      throw new Error(`${path} is ${danglingChain(path)}, which does not exist`);
    }
    return false;
  }
  if (stats.isDirectory()) return true;
  const link = lstatSync(path).isSymbolicLink()
    ? ` (a symbolic link to ${readlinkSync(path)})`
    : '';
  const inTheWay = path === target ? '' : `, in the way of ${target}`;
  throw new Error(`${path}${link} is ${kindOf(stats)}, not a directory${inTheWay}`);
}

/**
 * `a symbolic link to T`, for a link `stat` found leading nowhere; when T is itself a link, the
 * chain on to its end (`..., a symbolic link to U`): T is there, only the last one is not.
 */
function danglingChain(link: string): string {
  const hops: string[] = [];
  // The kernel's own bound on a chain (SYMLOOP_MAX): one made into a loop meanwhile ends too.
  for (let path = link; hops.length < 40; ) {
    const target = readlinkSync(path);
    hops.push(`a symbolic link to ${target}`);
    path = resolve(dirname(path), target);
    if (!lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) break;
  }
  return hops.join(', ');
}

/**
 * Takes the data dir for this process. The lock is SQLite's own exclusive lock on a file of its
 * own, held until the connection closes: the operating system drops it when the process dies,
 * even by `kill -9`, so a crash never leaves a stale lock behind, and the task database itself
 * stays open to readers such as a backup.
 */
export function lockDataDir(dir: string): DataDirLock {
  const path = join(dir, LOCK_FILE);
  checkDataFile(path);
  createPrivateFile(path);
  // Read before SQLite opens the file: closing any other descriptor of it would drop the
  // process's POSIX locks on it, SQLite's among them.
  let storeMade = headerOf(path)?.readUInt32BE(68) === APPLICATION_ID;
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: 0 });
  } catch (error) {
    throw new DataDirError(`cannot open the lock file ${path}: ${reasonOf(error)}`);
  }
  try {
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    // The lock's one row is worth no journal on disk: in exclusive mode SQLite keeps the file of
    // the default journal for as long as the lock is held, a file more in the data dir.
    db.exec('PRAGMA journal_mode = MEMORY');
    // The pid goes in the file's header, where a start refused the lock can read it (SQLite's
    // file format fixes the place): the lock keeps it from opening the file with SQLite.
    db.exec(`BEGIN EXCLUSIVE; PRAGMA user_version = ${process.pid}; COMMIT`);
    // Left by a version that kept the journal on disk, killed while it held the lock: SQLite
    // has rolled back whatever it held, and in this mode never writes it again.
    rmSync(`${path}-journal`, { force: true });
  } catch (error) {
    db.close();
    if (codeOf(error) === 'SQLITE_BUSY') {
      const pid = holderPid(path);
      throw new DataDirError(
        `the data dir ${dir} is in use by another proxy-server${pid === undefined ? '' : ` (pid ${pid})`}; give this one its own --data-dir, or start it once that one has exited (one that is stopping holds the dir until its calls end, up to its --shutdown-grace)`,
      );
    }
    if (isNoRoomError(error)) throw new DataDirError(noRoomMessage(dir, error));
    // Something else written over the lock, a file of the proxy's that holds only a pid and a mark.
    const fix =
      codeOf(error) === 'SQLITE_NOTADB'
        ? `; with no proxy running on the dir, remove ${path} (never ${DATABASE_FILE}): the next start makes it again`
        : '';
    throw new DataDirError(`cannot lock the data dir ${dir} (${path}): ${reasonOf(error)}${fix}`);
  }
  // The mark lives in the lock file's header beside the pid: tasks.db itself cannot say it held
  // a store once something has emptied it, and the lock file outlives every clean stop.
  return {
    get storeMade() {
      return storeMade;
    },
    markStoreMade() {
      if (storeMade) return;
      db.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
      storeMade = true;
    },
    release: () => db.close(),
  };
}

/**
 * Refuses a task database of 0 bytes in a dir whose lock says one was made there: SQLite would
 * take the empty file for a new database and the proxy would start with no task, without a word
 * (a file truncated under a running proxy, a copy that wrote nothing). An empty file in a dir
 * with no such mark (a first start that stopped before its first write, a dir older than the
 * mark) is still taken as a new store.
 */
export function checkNotEmptied(path: string, lock: DataDirLock): void {
  if (!lock.storeMade || statSync(path, { throwIfNoEntry: false })?.size !== 0) return;
  throw new DataDirError(
    `${path} is empty (0 bytes), yet this data dir held a task database: its tasks are not in it. Restore it from a backup, or, to start afresh with no tasks, move it away with its -wal and -shm files`,
  );
}

/**
 * The file system has no room for the data dir's files: Node's ENOSPC, SQLite's SQLITE_FULL, or
 * its SQLITE_IOERR_SHMSIZE, the `-shm` file not grown (ENOSPC beneath, said as "disk I/O
 * error"). Worded by `noRoomMessage`: SQLite's own words do not say which disk, nor that it is
 * full.
 */
export function isNoRoomError(error: unknown): boolean {
  const code = codeOf(error);
  return code === 'ENOSPC' || code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_SHMSIZE';
}

/** Says the data dir's file system is full, with what is left on it (a few KiB is not enough). */
export function noRoomMessage(dir: string, error: unknown): string {
  let left = '';
  try {
    const { bavail, bsize } = statfsSync(dir);
    left = `; ${Math.floor((bavail * bsize) / 1024)} KiB free`;
  } catch {
    // The figure only helps; the line stands without it.
  }
  return (
    `the file system of the data dir ${dir} is full (${reasonOf(error)}${left}): ` +
    'make room on it (df -h shows how much is left), or choose another --data-dir'
  );
}

/** The pid the lock's holder wrote at offset 60 of the header (the user version), if it did. */
function holderPid(path: string): number | undefined {
  const pid = headerOf(path)?.readUInt32BE(60);
  return pid === undefined || pid === 0 ? undefined : pid;
}

/**
 * The first 72 bytes of a SQLite file's header, read from the file: a statement on the lock's
 * connection would keep it open, and the dir locked, past `release()` until it is collected.
 */
function headerOf(path: string): Buffer | undefined {
  const header = Buffer.alloc(72);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    if (readSync(fd, header, 0, header.length, 0) < header.length) return undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return header.toString('latin1', 0, 16) === 'SQLite format 3\0' ? header : undefined;
}

/** Which file a path names (device and inode), so that a later look can tell it was replaced. */
export interface FileIdentity {
  dev: number;
  ino: number;
}

/**
 * The file at `path` now: its identity, `'gone'` when nothing is there (removed, or a directory
 * on the way removed or moved), `'unknown'` when it cannot be looked at (permissions).
 */
export function fileAt(path: string): FileIdentity | 'gone' | 'unknown' {
  try {
    const stats = statSync(path, { throwIfNoEntry: false });
    return stats ? { dev: stats.dev, ino: stats.ino } : 'gone';
  } catch (error) {
    return codeOf(error) === 'ENOTDIR' ? 'gone' : 'unknown';
  }
}

export function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

export function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
