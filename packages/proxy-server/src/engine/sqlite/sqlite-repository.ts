import { join } from 'node:path';
import Database from 'libsql';
import {
  type BodyEncoding,
  TASK_STATUSES,
  type TaskError,
  type TaskErrorCode,
  type TaskStatus,
} from 'proxy-client/wire';
import { type Clock, systemClock } from '../../clock.js';
import type {
  OpenedRepository,
  RepositoryCounts,
  StartedRow,
  SummaryRow,
  TaskRepository,
  TaskRow,
} from '../local/task-repository.js';
import { isDamagedDatabaseError, StoreUnavailableError } from '../store-unavailable.js';
import type { BinaryString, PackedHeaders } from '../stored-request.js';
import { type FinishedCalls, type ListQuery, RECENT_CALLS } from '../task-backend.js';
import {
  type AttemptRecord,
  attemptLogOf,
  type CallbackState,
  type NewTask,
  newCallback,
  type Priority,
  type ResultSummary,
  type TaskOutcome,
  type TaskRequest,
} from '../task-record.js';
import {
  checkDataFile,
  checkNotEmptied,
  createPrivateFile,
  DATABASE_FILE,
  DataDirError,
  type DataDirLock,
  type FileIdentity,
  fileAt,
  isNoRoomError,
  LOCK_FILE,
  lockDataDir,
  noRoomMessage,
  prepareDataDir,
  reasonOf,
} from './data-dir.js';
import { checkOwnership, inTransaction, upgradeSchema } from './schema.js';

/** SQLite's `synchronous` settings the store offers (see `SqliteRepositoryOptions`). */
export const SQLITE_SYNCHRONOUS = ['normal', 'full'] as const;
export type SqliteSynchronous = (typeof SQLITE_SYNCHRONOUS)[number];

export interface SqliteRepositoryOptions {
  dataDir: string;
  /**
   * `normal` survives a crash of the process (at commit the write-ahead log is in the operating
   * system's hands) and may lose the last commits on a power cut; `full` also survives a power
   * cut, at the price of an fsync per commit.
   */
  synchronous: SqliteSynchronous;
  /** When the log and the lock were last looked at (`systemClock` unless a test drives it). */
  clock?: Pick<Clock, 'monotonic'>;
}

/**
 * How often a commit looks at the log and the lock, beside the database it looks at every time:
 * each is a stat, some 2 µs, and a commit per submission at the benchmark's rate made three of
 * them cost 8% of its throughput.
 */
const COMPANIONS_CHECK_MS = 1_000;

const SUMMARY_COLUMNS =
  'seq, id, method, path, created_at, status, started_at, completed_at, is_long, attempts, ' +
  'result_status, result_headers, result_encoding, result_bytes, error_code, error_message, ' +
  'retry_of, retried_as, queue_order, priority, tenant, deadline_at, max_attempts, ' +
  'next_attempt_at, earlier_attempts, callback';
/**
 * One task's summary as one JSON text, `[seq, id, ...]` in SUMMARY_COLUMNS' order, read back by
 * `summaryIn`. libsql builds a row object one property at a time across N-API: 26 columns as
 * properties cost a task's start or finish about 17 µs more than one string and `JSON.parse`
 * (docs/benchmarks.md, scenario 2).
 */
const SUMMARY_JSON = `json_array(${SUMMARY_COLUMNS}) AS summary`;

/** A task in line as a restart needs it back (QueuedRow). */
const QUEUED_COLUMNS =
  'id, queue_order, priority, tenant, ' +
  'CASE WHEN attempts = 0 THEN deadline_at END AS deadline_at, next_attempt_at, ' +
  "CASE WHEN next_attempt_at IS NOT NULL THEN json_extract(earlier_attempts, '$[#-1].finishedAt') " +
  'WHEN attempts = 0 THEN created_at END AS waiting_since';

/**
 * A page of summaries as one JSON text, `[[seq, id, ...], ...]` in SUMMARY_COLUMNS' order, read
 * back by `columnsOf`: for a page of 100 rows, row objects cost three times what one string and
 * `JSON.parse` do (docs/benchmarks.md, 5c). Only the columns named are read, never a result's
 * body.
 */
const pageStatement = (where: string, order: string) =>
  `SELECT json_group_array(json_array(${SUMMARY_COLUMNS}) ORDER BY ${order} DESC) AS page ` +
  `FROM (SELECT ${SUMMARY_COLUMNS}, status_order FROM tasks ${where} ` +
  `ORDER BY ${order} DESC LIMIT ? OFFSET ?)`;

interface SummaryColumns {
  seq: number;
  id: string;
  method: string;
  path: string;
  created_at: number;
  status: TaskStatus;
  started_at: number | null;
  completed_at: number | null;
  is_long: number;
  attempts: number;
  result_status: number | null;
  result_headers: string | null;
  result_encoding: BodyEncoding | null;
  result_bytes: number | null;
  error_code: TaskErrorCode | null;
  error_message: string | null;
  retry_of: string | null;
  retried_as: string | null;
  queue_order: number;
  priority: Priority;
  tenant: string | null;
  deadline_at: number | null;
  max_attempts: number;
  next_attempt_at: number | null;
  earlier_attempts: string | null;
  callback: string | null;
}

/** A row that carries its summary as `SUMMARY_JSON`. */
interface SummaryText {
  summary: string;
}

interface QueuedColumns {
  id: string;
  queue_order: number;
  priority: Priority;
  tenant: string | null;
  deadline_at: number | null;
  next_attempt_at: number | null;
  waiting_since: number | null;
}

interface LeftColumns extends QueuedColumns {
  cut_offs: number;
}

interface RequestColumns {
  method: string;
  path: string;
  request_headers: Buffer;
  request_body: Buffer | null;
}

type Counts = Record<TaskStatus, number> & { long: number; callbacksPending: number };

/**
 * Pages the write-ahead log may hold before they are copied into the database (SQLite's
 * default: 1,000). Task ids are random, so every admission touches a random page of the id
 * index; the longer a page stays in the log, the more admissions one copy of it carries. With
 * 10,000 (a log of up to 40 MiB in the data dir) an admission costs about a third less
 * (docs/benchmarks.md, scenario 1).
 */
const CHECKPOINT_PAGES = 10_000;
/** SQLite's default page size, which the task database keeps. */
const PAGE_BYTES = 4096;

/** A file of the data dir that must stay the one opened while the proxy runs. */
interface GuardedFile {
  path: string;
  /** As opened; null until it exists (the write-ahead log, made by the first write). */
  identity: FileIdentity | null;
  /** What its loss means and what to do. */
  consequence: string;
}

function guarded(path: string, consequence: string): GuardedFile {
  const now = fileAt(path);
  return { path, identity: typeof now === 'object' ? now : null, consequence };
}

/** Throws, lasting, when `file`'s path no longer names the file opened. */
function checkInPlace(file: GuardedFile): void {
  const now = fileAt(file.path);
  if (now === 'unknown') return;
  const opened = file.identity;
  if (opened === null) {
    // The log is made by the first write after a start that found none.
    if (now !== 'gone') file.identity = now;
    return;
  }
  if (now !== 'gone' && now.dev === opened.dev && now.ino === opened.ino) return;
  throw new StoreUnavailableError(
    `${file.path} was removed or replaced while the proxy ran, ${file.consequence}`,
    { lasting: true },
  );
}

/**
 * Tasks in one SQLite file in write-ahead-log mode, owned by this process (see `lockDataDir`).
 * Writes open a transaction that `commit()` ends, so the local backend groups the writes of a
 * whole turn of the event loop into one commit. Counts are read from the file once at open and
 * then kept here, moved by each write and settled at each commit, so `/stats` never counts rows.
 */
export class SqliteRepository implements TaskRepository {
  readonly kind = 'sqlite';
  readonly durable = true;
  readonly location: string;
  readonly #options: SqliteRepositoryOptions;
  #db: Database.Database | null = null;
  #lock: DataDirLock | null = null;
  /** The database as opened: each commit checks its path still names it. */
  #database: GuardedFile | null = null;
  /** The log and the lock as opened, checked once a second. */
  #companions: GuardedFile[] = [];
  #companionsCheckedAt = Number.NEGATIVE_INFINITY;
  /**
   * A companion found gone: every commit refuses from then on. Its copy cannot come back (a log
   * or lock made again is another file), and the commits between two looks would otherwise pass.
   */
  #companionLost: StoreUnavailableError | null = null;
  #statements: ReturnType<typeof prepare> | null = null;
  /** Counts as committed, and the moves of the writes not committed yet. */
  #counts = zeroCounts();
  #moves = zeroCounts();
  /** Orders tasks within a status: every transition takes the next number. */
  #nextOrder = 1;
  #inTransaction = false;
  /** A failed statement made SQLite roll back the whole transaction: the next commit must fail. */
  #lostTransaction: unknown = null;

  constructor(options: SqliteRepositoryOptions) {
    this.#options = options;
    this.location = join(options.dataDir, DATABASE_FILE);
  }

  open(): OpenedRepository {
    const { dataDir } = this.#options;
    prepareDataDir(dataDir);
    const lock = lockDataDir(dataDir);
    this.#lock = lock;
    this.#database = null;
    this.#companions = [];
    this.#companionLost = null;
    try {
      for (const suffix of ['', '-wal', '-shm']) checkDataFile(this.location + suffix);
      checkNotEmptied(this.location, lock);
      createPrivateFile(this.location);
      const opened = this.#openDatabase();
      lock.markStoreMade();
      return opened;
    } catch (error) {
      this.close();
      if (error instanceof DataDirError) throw error;
      throw new DataDirError(this.#describeOpenFailure(error));
    }
  }

  refusalAtStart(error: unknown): unknown {
    return isNoRoomError(error)
      ? new DataDirError(noRoomMessage(this.#options.dataDir, error))
      : error;
  }

  atomically<T>(writes: () => T): T {
    this.#write(() => this.#sql.savepoint.run());
    const moves = { ...this.#moves };
    try {
      const value = writes();
      this.#sql.release.run();
      return value;
    } catch (error) {
      this.#moves = moves;
      // A failure that ended the transaction leaves nothing to undo (the commit will say so).
      if (this.#db?.inTransaction) {
        try {
          this.#sql.rollbackToSavepoint.run();
          this.#sql.release.run();
        } catch {
          // Not undone: the batch cannot be committed with these writes in it, so all of it goes.
          this.#rollBack();
          if (this.#lostTransaction === null) this.#lose(error);
        }
      }
      throw error;
    }
  }

  insert(seq: number, task: NewTask): void {
    if (task.retryOf !== null) {
      const { retryOf } = task;
      this.atomically(() => {
        this.#insert(seq, task);
        this.#write(() => this.#sql.linkRetry.run(task.id, retryOf));
      });
    } else {
      this.#insert(seq, task);
    }
  }

  #insert(seq: number, task: NewTask): void {
    const { request, policy } = task;
    this.#write(() =>
      this.#sql.insert.run(
        seq,
        seq,
        task.id,
        this.#nextOrder,
        request.method,
        request.path,
        // As bytes: SQLite's text would end at the first NUL, the separator of packed headers.
        Buffer.from(request.headers, 'latin1'),
        request.body === null ? null : Buffer.from(request.body, 'latin1'),
        task.createdAt,
        task.idempotencyKey,
        task.requestHash,
        task.retryOf,
        policy.priority,
        policy.tenant,
        policy.deadlineAt,
        policy.maxAttempts,
        policy.timeoutMs,
        policy.callbackUrl === null ? null : JSON.stringify(newCallback(policy.callbackUrl)),
        policy.callbackUrl === null ? null : 'pending',
      ),
    );
    this.#nextOrder++;
    this.#moves.pending++;
  }

  findByIdempotencyKey(key: string): { id: string; requestHash: string | null } | undefined {
    const row = this.#sql.byIdempotencyKey.get(key) as
      | { id: string; request_hash: string | null }
      | undefined;
    return row && { id: row.id, requestHash: row.request_hash };
  }

  start(id: string, startedAt: number): StartedRow | undefined {
    const row = this.#write(
      () =>
        this.#sql.start.get(this.#nextOrder, startedAt, id) as
          | (SummaryText & RequestColumns & { timeout_ms: number | null })
          | undefined,
    );
    if (!row) return undefined;
    this.#nextOrder++;
    this.#moves.pending--;
    this.#moves.processing++;
    return { task: summaryIn(row), request: requestOf(row), timeoutMs: row.timeout_ms };
  }

  retry(id: string, attempt: AttemptRecord, runAt: number, order: number): SummaryRow | undefined {
    const row = this.#write(() =>
      this.#sql.retry.get(this.#nextOrder, runAt, order, JSON.stringify(attempt), id),
    ) as SummaryColumns | undefined;
    if (!row) return undefined;
    this.#nextOrder++;
    this.#moves.processing--;
    this.#moves.pending++;
    return summaryOf(row);
  }

  setCallback(id: string, callback: CallbackState): boolean {
    // Read before the write, by the task's key: how the callback stood, for the count.
    const before = this.#sql.callbackBefore.get(id) as
      | { finished: number; pending: number }
      | undefined;
    if (!before) return false;
    this.#write(() => this.#sql.setCallback.run(JSON.stringify(callback), callback.state, id));
    // Only a finished task's callback is due: an unfinished one is counted at its finish.
    if (before.finished) {
      this.#moves.callbacksPending += (callback.state === 'pending' ? 1 : 0) - before.pending;
    }
    return true;
  }

  pendingCallbacks(): { id: string; callback: CallbackState }[] {
    const rows = this.#sql.pendingCallbacks.all() as { id: string; callback: string }[];
    return rows.map((row) => ({ id: row.id, callback: JSON.parse(row.callback) }));
  }

  finish(
    id: string,
    outcome: TaskOutcome,
    completedAt: number,
    isLong: boolean,
  ): SummaryRow | undefined {
    const { result, error } = outcome;
    const values = [
      outcome.status,
      this.#nextOrder,
      completedAt,
      isLong ? 1 : 0,
      result?.statusCode ?? null,
      result ? JSON.stringify(result.headers) : null,
      result?.encoding ?? null,
      result?.bodyBytes ?? null,
      result ? columnBodyOf(result.body) : null,
      error?.code ?? null,
      error?.message ?? null,
      id,
    ];
    // Most finishes end a call; a pending task is finished only when it never starts.
    let from: TaskStatus = 'processing';
    let row = this.#write(() => this.#sql.finishProcessing.get(...values)) as
      | SummaryText
      | undefined;
    if (!row) {
      from = 'pending';
      row = this.#write(() => this.#sql.finishPending.get(...values)) as SummaryText | undefined;
    }
    if (!row) return undefined;
    this.#nextOrder++;
    this.#moves[from]--;
    this.#moves[outcome.status]++;
    if (isLong) this.#moves.long++;
    const summary = summaryIn(row);
    if (summary.callback?.state === 'pending') this.#moves.callbacksPending++;
    return summary;
  }

  requeue(id: string, endedAt: number): SummaryRow | undefined {
    const row = this.#write(() => this.#sql.requeue.get(this.#nextOrder, endedAt, endedAt, id)) as
      | SummaryColumns
      | undefined;
    if (!row) return undefined;
    this.#nextOrder++;
    this.#moves.processing--;
    this.#moves.pending++;
    return summaryOf(row);
  }

  get(id: string): TaskRow | undefined {
    const row = this.#sql.get.get(id) as (SummaryText & { result_body: unknown }) | undefined;
    if (!row) return undefined;
    const summary = summaryIn(row);
    const { result } = summary;
    if (!result) return Object.assign(summary, { result: null });
    const column = row.result_body;
    // Text kept as bytes (it held a NUL) is text again; a binary body stays bytes.
    const body =
      Buffer.isBuffer(column) && result.encoding !== 'base64'
        ? column.toString('utf8')
        : typeof column === 'string' || Buffer.isBuffer(column)
          ? column
          : '';
    // Both objects are this read's own: completed in place rather than copied by a spread.
    return Object.assign(summary, { result: Object.assign(result, { body }) });
  }

  getRequest(id: string): TaskRequest | undefined {
    const row = this.#sql.getRequest.get(id) as RequestColumns | undefined;
    return row && requestOf(row);
  }

  list(query: ListQuery): { rows: SummaryRow[]; total: number } {
    const counts = this.counts();
    const page = (
      query.status
        ? this.#sql.listByStatus.get(query.status, query.limit, query.offset)
        : this.#sql.listAll.get(query.limit, query.offset)
    ) as { page: string };
    const rows = (JSON.parse(page.page) as unknown[][]).map((values) =>
      summaryOf(columnsOf(values)),
    );
    return { rows, total: query.status ? counts[query.status] : counts.total };
  }

  counts(): RepositoryCounts {
    const counts = { total: 0 } as RepositoryCounts;
    for (const status of TASK_STATUSES) {
      counts[status] = this.#counts[status] + this.#moves[status];
      counts.total += counts[status];
    }
    counts.long = this.#counts.long + this.#moves.long;
    counts.callbacksPending = this.#counts.callbacksPending + this.#moves.callbacksPending;
    return counts;
  }

  removeFinished(completedBefore: number, limit: number): number {
    return this.#removed(this.#sql.removeFinished, completedBefore, limit);
  }

  removeOldestFinished(count: number): number {
    return this.#removed(this.#sql.removeOldestFinished, count);
  }

  /**
   * Runs a DELETE ... RETURNING status, is_long, callback_pending and moves the counts by what it
   * removed.
   */
  #removed(statement: Database.Statement, ...params: unknown[]): number {
    const rows = this.#write(() => statement.all(...params)) as {
      status: TaskStatus;
      is_long: number;
      callback_pending: number;
    }[];
    for (const row of rows) {
      this.#moves[row.status]--;
      if (row.is_long) this.#moves.long--;
      // Finished, all of them: a callback still due goes with its task.
      this.#moves.callbacksPending -= row.callback_pending;
    }
    return rows.length;
  }

  commit(): void {
    if (this.#lostTransaction !== null) {
      const lost = this.#lostTransaction;
      this.#rollBack();
      this.#endTransaction(false);
      throw lost;
    }
    if (!this.#inTransaction) return;
    try {
      this.#checkFilesInPlace({ companionsEverySecond: true });
      this.#sql.commit.run();
    } catch (error) {
      if (this.#db?.inTransaction) this.#sql.rollback.run();
      this.#endTransaction(false);
      throw error;
    }
    this.#endTransaction(true);
  }

  /**
   * SQLite writes on through its open handles to files that were removed or moved (the data dir
   * deleted under a running proxy, a cleaner that took the log or the lock): every commit would
   * succeed and be lost at the next start, or a second proxy could lock the dir and run the same
   * tasks. A stat per commit (a group of writes), and of the log and the lock once a second, is
   * what it costs to refuse them instead.
   */
  #checkFilesInPlace({ companionsEverySecond }: { companionsEverySecond: boolean }): void {
    if (this.#companionLost) throw this.#companionLost;
    if (this.#database) checkInPlace(this.#database);
    const moment = (this.#options.clock ?? systemClock).monotonic();
    if (companionsEverySecond && moment - this.#companionsCheckedAt < COMPANIONS_CHECK_MS) return;
    this.#companionsCheckedAt = moment;
    try {
      for (const file of this.#companions) checkInPlace(file);
    } catch (error) {
      if (error instanceof StoreUnavailableError) this.#companionLost = error;
      throw error;
    }
  }

  /** Every file at once: a health check is rare beside commits, and an idle proxy makes none. */
  checkFiles(): void {
    this.#checkFilesInPlace({ companionsEverySecond: false });
  }

  close(): void {
    try {
      if (this.#inTransaction && this.#db?.inTransaction) this.#sql.rollback.run();
      this.#checkpoint();
      this.#db?.close();
    } finally {
      this.#db = null;
      this.#statements = null;
      this.#lock?.release();
      this.#lock = null;
    }
  }

  /**
   * Copies the write-ahead log into the file and empties it: libsql's close() leaves it full, and
   * a stopped proxy's tasks.db should stand alone (a copy of it is a backup, operations.md).
   * Best effort: a reader holding the log (a backup running) only leaves it for the next start.
   */
  #checkpoint(): void {
    try {
      this.#db?.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    } catch {
      // The log stays valid and is replayed at the next open.
    }
  }

  get #sql(): ReturnType<typeof prepare> {
    if (!this.#statements) throw new Error('the task database is not open');
    return this.#statements;
  }

  #openDatabase(): OpenedRepository {
    const db = new Database(this.location, { timeout: 1_000 });
    this.#db = db;
    this.#database = guarded(
      this.location,
      'and what it saved since would be lost: stop the proxy, then start it again on the data dir as it should be (a restored backup, or none for an empty store)',
    );
    checkOwnership(db, this.location);
    // A file not yet in WAL mode (a new one, a backup) commits its upgrade in a rollback journal,
    // where only FULL keeps it whole through a power cut.
    db.exec('PRAGMA synchronous = FULL');
    // The upgrade is committed with the reads, or not at all: a damaged file found so is
    // refused as it was.
    const opened = inTransaction(db, () => this.#readAtStart(db));
    // Only now: switching a file to WAL rewrites its header.
    db.exec('PRAGMA journal_mode = WAL');
    db.exec(`PRAGMA synchronous = ${this.#options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    db.exec(`PRAGMA wal_autocheckpoint = ${CHECKPOINT_PAGES}`);
    // A large result grows the log far past a checkpoint's worth; when the log starts over, it
    // is cut back to that (each frame is a page and a 24-byte header, after a 32-byte header).
    db.exec(`PRAGMA journal_size_limit = ${CHECKPOINT_PAGES * (PAGE_BYTES + 24) + 32}`);
    this.#companions = [
      guarded(
        `${this.location}-wal`,
        `and what the proxy saved since is only in the copy it holds open: stop it with SIGTERM (not kill -9), which writes that into ${DATABASE_FILE}, then start it again`,
      ),
      guarded(
        join(this.#options.dataDir, LOCK_FILE),
        'and another proxy-server could now take the data dir and run its tasks a second time: stop this proxy, then start it again (its start locks the data dir anew)',
      ),
    ];
    return opened;
  }

  /** Brings the schema up to date and reads what the backend needs at start. */
  #readAtStart(db: Database.Database): OpenedRepository {
    const schemaUpgrade = upgradeSchema(db);
    this.#statements = prepare(db);
    const sql = this.#statements;
    for (const row of sql.countByStatus.all() as { status: TaskStatus; n: number }[]) {
      this.#counts[row.status] = row.n;
    }
    this.#counts.long = (sql.countLong.get() as { value: number }).value;
    this.#counts.callbacksPending = (sql.countCallbacksPending.get() as { value: number }).value;
    let lastOrder = 0;
    for (const status of TASK_STATUSES) {
      const last = sql.lastOrder.get(status) as { value: number | null };
      lastOrder = Math.max(lastOrder, last.value ?? 0);
    }
    this.#nextOrder = lastOrder + 1;
    const queued = (row: QueuedColumns) => ({
      id: row.id,
      order: row.queue_order,
      priority: row.priority,
      tenant: row.tenant,
      deadlineAt: row.deadline_at,
      nextAttemptAt: row.next_attempt_at,
      waitingSince: row.waiting_since,
    });
    return {
      pending: (sql.queuedByStatus.all('pending') as QueuedColumns[]).map(queued),
      processing: (sql.leftProcessing.all() as LeftColumns[]).map((row) => ({
        ...queued(row),
        cutOffs: row.cut_offs,
      })),
      nextSeq: ((sql.lastSeq.get() as { value: number | null }).value ?? 0) + 1,
      finishedCalls: finishedCallsOf(sql.recentCalls.get(RECENT_CALLS) as RecentCallsRow),
      schemaUpgrade,
    };
  }

  #describeOpenFailure(error: unknown): string {
    if (isNoRoomError(error)) return noRoomMessage(this.#options.dataDir, error);
    if (isDamagedDatabaseError(error)) {
      return (
        `${this.location} is not a readable task database (${reasonOf(error)}); move it away ` +
        'or restore it from a backup, or choose another --data-dir'
      );
    }
    return `cannot open the task database ${this.location}: ${reasonOf(error)}`;
  }

  /** Runs a write inside the open transaction, beginning one if needed. */
  #write<T>(statement: () => T): T {
    // Written now, it would be committed on its own, outside the transaction that is gone.
    if (this.#lostTransaction !== null) throw this.#lostTransaction;
    const sql = this.#sql;
    if (!this.#inTransaction) {
      sql.begin.run();
      this.#inTransaction = true;
    }
    try {
      return statement();
    } catch (error) {
      // Some errors (disk full, I/O) make SQLite roll back the whole transaction, not only the
      // statement: every write of this batch is gone, and the commit must say so.
      if (!this.#db?.inTransaction && this.#lostTransaction === null) this.#lose(error);
      throw error;
    }
  }

  /**
   * The batch's steps hear of the loss at its commit, which comes in the next turn of the event
   * loop; when nothing of the batch was left waiting for one (the write that failed was its
   * first), no commit comes: the loss is settled then all the same, or every later write would
   * fail with it.
   */
  #lose(error: unknown): void {
    this.#lostTransaction = error;
    // After any flush queued in this turn: each write of the local backend queues its step at
    // once, so a batch holding lost writes has its commit before this.
    setImmediate(() => {
      if (this.#lostTransaction !== error) return;
      this.#rollBack();
      this.#endTransaction(false);
    });
  }

  /** Rolls back what SQLite still holds open of a lost transaction, if anything. */
  #rollBack(): void {
    if (!this.#db?.inTransaction) return;
    try {
      this.#sql.rollback.run();
    } catch {
      // Nothing more to do here: the next BEGIN says what is wrong with the file.
    }
  }

  #endTransaction(committed: boolean): void {
    if (committed) {
      for (const key of Object.keys(this.#moves) as (keyof Counts)[]) {
        this.#counts[key] += this.#moves[key];
      }
    }
    this.#moves = zeroCounts();
    this.#inTransaction = false;
    this.#lostTransaction = null;
  }
}

interface RecentCallsRow {
  meanMs: number | null;
  calls: number;
}

function finishedCallsOf(row: RecentCallsRow): FinishedCalls | null {
  return row.meanMs === null || row.calls === 0 ? null : { meanMs: row.meanMs, calls: row.calls };
}

function prepare(db: Database.Database) {
  return {
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    savepoint: db.prepare('SAVEPOINT writes'),
    release: db.prepare('RELEASE writes'),
    rollbackToSavepoint: db.prepare('ROLLBACK TO writes'),
    insert: db.prepare(
      'INSERT INTO tasks (seq, queue_order, id, status, status_order, method, path, ' +
        'request_headers, request_body, created_at, idempotency_key, request_hash, retry_of, ' +
        'priority, tenant, deadline_at, max_attempts, timeout_ms, callback, callback_state) ' +
        "VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    retry: db.prepare(
      "UPDATE tasks SET status = 'pending', status_order = ?, started_at = NULL, " +
        'next_attempt_at = ?, queue_order = ?, ' +
        "earlier_attempts = json_insert(coalesce(earlier_attempts, '[]'), '$[#]', json(?)) " +
        // Columns, not SUMMARY_JSON: RETURNING sees earlier_attempts as json_insert made it, JSON
        // rather than text, and json_array would nest it instead of quoting it.
        `WHERE id = ? AND status = 'processing' RETURNING ${SUMMARY_COLUMNS}`,
    ),
    setCallback: db.prepare('UPDATE tasks SET callback = ?, callback_state = ? WHERE id = ?'),
    callbackBefore: db.prepare(
      "SELECT completed_at IS NOT NULL AS finished, callback_state IS 'pending' AS pending " +
        'FROM tasks WHERE id = ?',
    ),
    // A task's callback is pending from its admission on; only a finished one's is due.
    pendingCallbacks: db.prepare(
      "SELECT id, callback FROM tasks WHERE callback_state = 'pending' AND completed_at IS NOT NULL",
    ),
    linkRetry: db.prepare('UPDATE tasks SET retried_as = ? WHERE id = ?'),
    byIdempotencyKey: db.prepare('SELECT id, request_hash FROM tasks WHERE idempotency_key = ?'),
    start: db.prepare(
      "UPDATE tasks SET status = 'processing', status_order = ?, started_at = ?, " +
        "next_attempt_at = NULL, attempts = attempts + 1 WHERE id = ? AND status = 'pending' " +
        `RETURNING ${SUMMARY_JSON}, method, path, request_headers, request_body, timeout_ms`,
    ),
    ...finishStatements(db),
    // The cut-off call as cutOffAttempt makes it; SET's right-hand sides read the row as it was.
    requeue: db.prepare(
      "UPDATE tasks SET status = 'pending', status_order = ?, started_at = NULL, " +
        "earlier_attempts = json_insert(coalesce(earlier_attempts, '[]'), '$[#]', json_object(" +
        "'attempt', attempts, 'startedAt', coalesce(started_at, ?), 'finishedAt', ?, " +
        "'outcome', 'failed', 'statusCode', NULL, 'errorCode', 'interrupted', 'retryAt', NULL)) " +
        `WHERE id = ? AND status = 'processing' RETURNING ${SUMMARY_COLUMNS}`,
    ),
    get: db.prepare(`SELECT ${SUMMARY_JSON}, result_body FROM tasks WHERE id = ?`),
    getRequest: db.prepare(
      'SELECT method, path, request_headers, request_body FROM tasks WHERE id = ?',
    ),
    listAll: db.prepare(pageStatement('', 'seq')),
    listByStatus: db.prepare(pageStatement('WHERE status = ?', 'status_order')),
    removeFinished: db.prepare(
      'DELETE FROM tasks WHERE seq IN (SELECT seq FROM tasks WHERE completed_at IS NOT NULL ' +
        'AND completed_at <= ? ORDER BY completed_at LIMIT ?) ' +
        "RETURNING status, is_long, callback_state IS 'pending' AS callback_pending",
    ),
    removeOldestFinished: db.prepare(
      'DELETE FROM tasks WHERE seq IN (SELECT seq FROM tasks WHERE completed_at IS NOT NULL ' +
        'ORDER BY completed_at LIMIT ?) ' +
        "RETURNING status, is_long, callback_state IS 'pending' AS callback_pending",
    ),
    countByStatus: db.prepare('SELECT status, count(*) AS n FROM tasks GROUP BY status'),
    countLong: db.prepare('SELECT count(*) AS value FROM tasks WHERE is_long = 1'),
    // Once, at open: through tasks_callbacks_pending, so it reads the undelivered callbacks (and
    // those of tasks not finished yet), not the table; from then on the count is kept here.
    countCallbacksPending: db.prepare(
      "SELECT count(*) AS value FROM tasks WHERE callback_state = 'pending' " +
        'AND completed_at IS NOT NULL',
    ),
    // The calls of the newest finished tasks, as the mean of finished calls counts them (any
    // outcome but one cut off by a stop), walked through tasks_by_completion from its end; a
    // wall clock set back during a call makes no negative duration.
    recentCalls: db.prepare(
      `SELECT avg(max(0, completed_at - started_at)) AS meanMs, count(*) AS calls FROM (
         SELECT completed_at, started_at FROM tasks
         WHERE completed_at IS NOT NULL AND started_at IS NOT NULL
           AND error_code IS NOT 'interrupted'
         ORDER BY completed_at DESC LIMIT ?)`,
    ),
    lastOrder: db.prepare('SELECT max(status_order) AS value FROM tasks WHERE status = ?'),
    lastSeq: db.prepare('SELECT max(seq) AS value FROM tasks'),
    queuedByStatus: db.prepare(
      `SELECT ${QUEUED_COLUMNS} FROM tasks WHERE status = ? ORDER BY queue_order`,
    ),
    // The cut-offs are counted off the history, which keeps each (requeue below), so that the
    // cap on requeues needs nothing stored of its own; only these few rows pay for the count.
    leftProcessing: db.prepare(
      `SELECT ${QUEUED_COLUMNS}, (SELECT count(*) FROM json_each(earlier_attempts) ` +
        "WHERE json_extract(value, '$.errorCode') = 'interrupted') AS cut_offs " +
        "FROM tasks WHERE status = 'processing' ORDER BY queue_order",
    ),
  };
}

function finishStatements(db: Database.Database) {
  const finish = (from: TaskStatus) =>
    db.prepare(
      'UPDATE tasks SET status = ?, status_order = ?, completed_at = ?, is_long = ?, ' +
        'next_attempt_at = NULL, ' +
        'result_status = ?, result_headers = ?, result_encoding = ?, result_bytes = ?, ' +
        'result_body = ?, error_code = ?, error_message = ? ' +
        `WHERE id = ? AND status = '${from}' RETURNING ${SUMMARY_JSON}`,
    );
  return { finishProcessing: finish('processing'), finishPending: finish('pending') };
}

function zeroCounts(): Counts {
  const counts = { long: 0, callbacksPending: 0 } as Counts;
  for (const status of TASK_STATUSES) counts[status] = 0;
  return counts;
}

function summaryOf(row: SummaryColumns): SummaryRow {
  const fields = {
    status: row.status,
    attempts: row.attempts,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    result: resultOf(row),
    error: errorOf(row),
  };
  return {
    seq: row.seq,
    order: row.queue_order,
    queuePosition: null,
    id: row.id,
    method: row.method,
    path: row.path,
    createdAt: row.created_at,
    ...fields,
    isLong: row.is_long === 1,
    retryOf: row.retry_of,
    retriedAs: row.retried_as,
    priority: row.priority,
    tenant: row.tenant,
    deadlineAt: row.deadline_at,
    maxAttempts: row.max_attempts,
    nextAttemptAt: row.next_attempt_at,
    attemptLog: attemptLogOf(
      fields,
      row.earlier_attempts === null ? [] : JSON.parse(row.earlier_attempts),
    ),
    callback: row.callback === null ? null : JSON.parse(row.callback),
  };
}

function summaryIn(row: SummaryText): SummaryRow {
  return summaryOf(columnsOf(JSON.parse(row.summary) as unknown[]));
}

/** One row of a page (`pageStatement`): its values in SUMMARY_COLUMNS' order. */
function columnsOf(values: unknown[]): SummaryColumns {
  return {
    seq: values[0],
    id: values[1],
    method: values[2],
    path: values[3],
    created_at: values[4],
    status: values[5],
    started_at: values[6],
    completed_at: values[7],
    is_long: values[8],
    attempts: values[9],
    result_status: values[10],
    result_headers: values[11],
    result_encoding: values[12],
    result_bytes: values[13],
    error_code: values[14],
    error_message: values[15],
    retry_of: values[16],
    retried_as: values[17],
    queue_order: values[18],
    priority: values[19],
    tenant: values[20],
    deadline_at: values[21],
    max_attempts: values[22],
    next_attempt_at: values[23],
    earlier_attempts: values[24],
    callback: values[25],
  } as SummaryColumns;
}

/**
 * A result body as its column keeps it: text as text, unless it holds a NUL, where SQLite's text
 * would end (a text/plain answer may hold one); that text goes as its UTF-8 bytes, and `get`
 * makes it text again by the result's encoding.
 */
function columnBodyOf(body: string | Buffer): string | Buffer {
  return typeof body === 'string' && body.includes('\0') ? Buffer.from(body, 'utf8') : body;
}

function errorOf(row: SummaryColumns): TaskError | null {
  return row.error_code === null
    ? null
    : { code: row.error_code, message: row.error_message ?? '' };
}

function resultOf(row: SummaryColumns): ResultSummary | null {
  if (row.result_status === null) return null;
  return {
    statusCode: row.result_status,
    headers: row.result_headers === null ? {} : JSON.parse(row.result_headers),
    encoding: row.result_encoding ?? 'text',
    bodyBytes: row.result_bytes ?? 0,
  };
}

function requestOf(row: RequestColumns): TaskRequest {
  return {
    method: row.method,
    path: row.path,
    headers: row.request_headers.toString('latin1') as PackedHeaders,
    body: row.request_body === null ? null : (row.request_body.toString('latin1') as BinaryString),
  };
}
