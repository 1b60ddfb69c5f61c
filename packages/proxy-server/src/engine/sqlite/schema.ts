import type Database from 'libsql';
import type { SchemaUpgrade } from '../task-backend.js';
import { DataDirError } from './data-dir.js';

/** Marks a database as proxy-server's (`PRAGMA application_id`): 'PRXY'. */
export const APPLICATION_ID = 0x50525859;

/**
 * Each entry takes the schema from the version before it (its index) to the next; the schema
 * version is `PRAGMA user_version`. Only ever append: a released migration never changes, so a
 * database made by any earlier release upgrades step by step and keeps its data.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE tasks (
     seq INTEGER PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     status TEXT NOT NULL,
     -- Order of entering the current status, for lists filtered by status.
     status_order INTEGER NOT NULL,
     method TEXT NOT NULL,
     path TEXT NOT NULL,
     -- The raw request headers as latin1 bytes, NUL-separated: name, value, name, value...
     request_headers BLOB NOT NULL,
     request_body BLOB,
     created_at INTEGER NOT NULL,
     started_at INTEGER,
     completed_at INTEGER,
     attempts INTEGER NOT NULL DEFAULT 0,
     is_long INTEGER NOT NULL DEFAULT 0,
     result_status INTEGER,
     result_headers TEXT,
     result_encoding TEXT,
     result_bytes INTEGER,
     -- TEXT for json and text results, BLOB for binary ones.
     result_body,
     error_code TEXT,
     error_message TEXT,
     -- The caller's Idempotency-Key (scoped to its API key) and its request's fingerprint.
     idempotency_key TEXT,
     request_hash TEXT,
     retry_of TEXT,
     retried_as TEXT,
     -- FIFO order in the queue: seq, until the task goes back to the queue (a retry).
     queue_order INTEGER NOT NULL,
     priority TEXT NOT NULL DEFAULT 'normal',
     tenant TEXT,
     deadline_at INTEGER,
     max_attempts INTEGER NOT NULL DEFAULT 1,
     timeout_ms INTEGER,
     next_attempt_at INTEGER,
     -- JSON: the attempts before the last one, kept only for retried tasks.
     earlier_attempts TEXT,
     -- JSON: the callback's URL and deliveries; callback_state indexes the undelivered ones.
     callback TEXT,
     callback_state TEXT
   );
   CREATE INDEX tasks_by_status ON tasks (status, status_order);
   CREATE INDEX tasks_by_completion ON tasks (completed_at) WHERE completed_at IS NOT NULL;
   CREATE INDEX tasks_long ON tasks (is_long) WHERE is_long = 1;
   CREATE UNIQUE INDEX tasks_by_idempotency_key ON tasks (idempotency_key)
     WHERE idempotency_key IS NOT NULL;
   CREATE INDEX tasks_callbacks_pending ON tasks (callback_state)
     WHERE callback_state = 'pending';`,
  // Changes no table: the version-1 schema, complete. The builds that know only version 1 (the
  // first ones among them, which write rows without the late columns: `queue_order` 0 puts their
  // tasks ahead of every waiting one) refuse a file at version 2 instead of writing into it.
  '-- version 2: version 1 with every late column',
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Columns (and indexes) that joined migration 1 after the first SQLite builds had written
 * version-1 files without them: such a file says version 1 yet lacks them. Each is added when it
 * is missing, with the value every row of those builds had (`queue_order` is `seq`, as it is
 * until a task goes back to the queue). Only ever append; never remove one.
 */
const LATE_VERSION_1_COLUMNS: readonly (readonly [name: string, definition: string])[] = [
  ['idempotency_key', 'TEXT'],
  ['request_hash', 'TEXT'],
  ['retry_of', 'TEXT'],
  ['retried_as', 'TEXT'],
  ['queue_order', 'INTEGER NOT NULL DEFAULT 0'],
  ['priority', "TEXT NOT NULL DEFAULT 'normal'"],
  ['tenant', 'TEXT'],
  ['deadline_at', 'INTEGER'],
  ['max_attempts', 'INTEGER NOT NULL DEFAULT 1'],
  ['timeout_ms', 'INTEGER'],
  ['next_attempt_at', 'INTEGER'],
  ['earlier_attempts', 'TEXT'],
  ['callback', 'TEXT'],
  ['callback_state', 'TEXT'],
];

const LATE_VERSION_1_INDEXES = `
  CREATE UNIQUE INDEX IF NOT EXISTS tasks_by_idempotency_key ON tasks (idempotency_key)
    WHERE idempotency_key IS NOT NULL;
  CREATE INDEX IF NOT EXISTS tasks_callbacks_pending ON tasks (callback_state)
    WHERE callback_state = 'pending';`;

/**
 * The late version-1 columns a database at version 1 lacks; none for a new one, nor for a later
 * version, whose migrations may rename or drop one of them.
 */
function missingLateColumns(db: Database.Database, version: number): string[] {
  if (version !== 1) return [];
  const present = new Set(
    (db.prepare("SELECT name FROM pragma_table_info('tasks')").all() as { name: string }[]).map(
      (column) => column.name,
    ),
  );
  return LATE_VERSION_1_COLUMNS.filter(([name]) => !present.has(name)).map(([name]) => name);
}

/** Gives a version-1 table of the first builds the columns and indexes it lacks. */
function completeVersion1(db: Database.Database, missing: readonly string[]): void {
  for (const [name, definition] of LATE_VERSION_1_COLUMNS) {
    if (missing.includes(name)) db.exec(`ALTER TABLE tasks ADD COLUMN ${name} ${definition}`);
  }
  // Only a task still to run reads its place in line; rewriting every finished row, results and
  // all, would copy a big file into the write-ahead log at the first start.
  if (missing.includes('queue_order')) {
    db.exec('UPDATE tasks SET queue_order = seq WHERE completed_at IS NULL');
  }
  db.exec(LATE_VERSION_1_INDEXES);
}

/**
 * Refuses, before anything is written to it, a database that is not proxy-server's or that a
 * newer proxy-server made; either is left exactly as it was.
 */
export function checkOwnership(
  db: Database.Database,
  path: string,
  knownVersion = SCHEMA_VERSION,
): void {
  // libsql's `pluck()` and `pragma(..., { simple: true })` give whole rows: name the column.
  const applicationId = scalar(db, 'SELECT application_id AS value FROM pragma_application_id');
  const version = scalar(db, 'SELECT user_version AS value FROM pragma_user_version');
  const tables = scalar(db, "SELECT count(*) AS value FROM sqlite_schema WHERE type = 'table'");
  if (applicationId !== APPLICATION_ID && (applicationId !== 0 || version !== 0 || tables > 0)) {
    throw new DataDirError(
      `${path} is a SQLite database of another program; move it away or choose another --data-dir`,
    );
  }
  if (version > knownVersion) {
    throw new DataDirError(
      `${path} has schema version ${version}, made by a newer proxy-server (this one knows up to ` +
        `${knownVersion}); upgrade proxy-server or choose another --data-dir`,
    );
  }
}

/**
 * Brings a database of ours to the last version, creating or upgrading it in one transaction;
 * a version-1 file of the first builds gains the columns it lacks first. Says which upgrade it
 * made, so that the start can tell the operator; none for a new file or one already current.
 */
export function migrate(
  db: Database.Database,
  migrations: readonly string[] = MIGRATIONS,
): SchemaUpgrade | undefined {
  return inTransaction(db, () => upgradeSchema(db, migrations));
}

/** `migrate` inside a transaction the caller holds, to be committed with what else it does. */
export function upgradeSchema(
  db: Database.Database,
  migrations: readonly string[] = MIGRATIONS,
): SchemaUpgrade | undefined {
  const version = scalar(db, 'SELECT user_version AS value FROM pragma_user_version');
  const missing = missingLateColumns(db, version);
  if (version >= migrations.length && missing.length === 0) return undefined;
  if (missing.length > 0) completeVersion1(db, missing);
  for (let step = version; step < migrations.length; step++) db.exec(migrations[step] as string);
  db.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
  db.exec(`PRAGMA user_version = ${migrations.length}`);
  return version === 0 ? undefined : { from: version, to: migrations.length };
}

/** Runs `work` in one write transaction: all of it is committed, or none. */
export function inTransaction<T>(db: Database.Database, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    // A COMMIT that failed (a full disk) has rolled back already, and the first error is the
    // one to report: the driver's own transaction() would replace it with ROLLBACK's.
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/** The `value` column of the first row of a query. */
export function scalar(db: Database.Database, sql: string, ...params: unknown[]): number {
  const row = db.prepare(sql).get(...params) as { value: number | null } | undefined;
  return row?.value ?? 0;
}
