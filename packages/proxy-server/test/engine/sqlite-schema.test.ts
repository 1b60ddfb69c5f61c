import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'libsql';
import { describe, expect, it, onTestFinished } from 'vitest';
import { checkOwnership, MIGRATIONS, migrate, scalar } from '../../src/engine/sqlite/schema.js';
import { isDataDirError } from '../../src/index.js';

async function database(): Promise<{ db: Database.Database; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'proxy-schema-'));
  const path = join(dir, 'tasks.db');
  const db = new Database(path);
  onTestFinished(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { db, path };
}

const columnsOf = (db: Database.Database) =>
  (db.prepare("SELECT name FROM pragma_table_info('tasks')").all() as { name: string }[]).map(
    (column) => column.name,
  );

const versionOf = (db: Database.Database) =>
  scalar(db, 'SELECT user_version AS value FROM pragma_user_version');

describe('the SQLite schema and its migrations', () => {
  it('creates a new database at the current version, marked as proxy-server’s', async () => {
    const { db, path } = await database();
    checkOwnership(db, path);
    migrate(db);
    expect(versionOf(db)).toBe(MIGRATIONS.length);
    expect(scalar(db, 'SELECT application_id AS value FROM pragma_application_id')).toBe(
      0x50525859,
    );
    expect(() => checkOwnership(db, path)).not.toThrow();
  });

  it('upgrades an older database step by step and keeps its data', async () => {
    const { db, path } = await database();
    migrate(db, MIGRATIONS);
    db.prepare(
      "INSERT INTO tasks (seq, queue_order, id, status, status_order, method, path, request_headers, created_at) VALUES (1, 1, 'a', 'completed', 1, 'GET', '/api/x', x'', 5)",
    ).run();
    const next = [...MIGRATIONS, 'ALTER TABLE tasks ADD COLUMN note TEXT'];
    checkOwnership(db, path, next.length);
    migrate(db, next);
    expect(versionOf(db)).toBe(next.length);
    expect(db.prepare("SELECT id, status, note FROM tasks WHERE id = 'a'").get()).toMatchObject({
      id: 'a',
      status: 'completed',
      note: null,
    });
  });

  it('completes a version-1 table of an early build that has only some of the late columns', async () => {
    const { db, path } = await database();
    // As the build after the first one (dc1721a) left it: idempotency keys, no queue order.
    const early = (MIGRATIONS[0] as string)
      .replace(/,\s*-- FIFO order[\s\S]*?callback_state TEXT\s*\)/, ')')
      .replace(/CREATE INDEX tasks_callbacks_pending[\s\S]*$/, '');
    db.exec(early);
    db.exec(`PRAGMA application_id = 0x50525859; PRAGMA user_version = 1`);
    db.prepare(
      "INSERT INTO tasks (seq, id, status, status_order, method, path, request_headers, created_at, idempotency_key) VALUES (7, 'a', 'pending', 1, 'GET', '/api/x', x'', 5, 'k')",
    ).run();
    expect(columnsOf(db)).not.toContain('queue_order');
    checkOwnership(db, path);
    migrate(db);
    expect(versionOf(db)).toBe(MIGRATIONS.length);
    const fresh = await database();
    migrate(fresh.db);
    expect(columnsOf(db).sort()).toEqual(columnsOf(fresh.db).sort());
    expect(
      db.prepare("SELECT queue_order, priority, max_attempts FROM tasks WHERE id = 'a'").get(),
    ).toMatchObject({ queue_order: 7, priority: 'normal', max_attempts: 1 });
    const indexes = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index'").all();
    expect(indexes).toContainEqual({ name: 'tasks_callbacks_pending' });
  });

  it('says which upgrade it made, and none for a new file or a current one', async () => {
    const { db } = await database();
    expect(migrate(db)).toBeUndefined();
    expect(migrate(db)).toBeUndefined();
    db.exec('PRAGMA user_version = 1');
    expect(migrate(db)).toEqual({ from: 1, to: MIGRATIONS.length });
  });

  // Operator pass: the late version-1 columns came without a new version, so a build that knows
  // only version 1 (the first ones write rows without them) took an upgraded file and wrote on.
  it('leaves an upgraded version-1 file at a version the builds that know only version 1 refuse', async () => {
    const { db, path } = await database();
    migrate(db, MIGRATIONS.slice(0, 1));
    migrate(db);
    expect(() => checkOwnership(db, path, 1)).toThrow(
      `has schema version ${MIGRATIONS.length}, made by a newer proxy-server (this one knows up to 1)`,
    );
  });

  it('leaves the database as it was when a migration fails', async () => {
    const { db } = await database();
    migrate(db, MIGRATIONS);
    const broken = [...MIGRATIONS, 'ALTER TABLE tasks ADD COLUMN ok TEXT; THIS IS NOT SQL'];
    expect(() => migrate(db, broken)).toThrow();
    expect(versionOf(db)).toBe(MIGRATIONS.length);
    const columns = db.prepare('SELECT name FROM pragma_table_info(?)').all('tasks') as {
      name: string;
    }[];
    expect(columns.map((column) => column.name)).not.toContain('ok');
  });

  it('refuses a database of a newer version, naming both versions', async () => {
    const { db, path } = await database();
    migrate(db, [...MIGRATIONS, 'SELECT 1']);
    let error: unknown;
    try {
      checkOwnership(db, path);
    } catch (caught) {
      error = caught;
    }
    expect(isDataDirError(error)).toBe(true);
    expect((error as Error).message).toContain(
      `has schema version ${MIGRATIONS.length + 1}, made by a newer proxy-server (this one knows up to ${MIGRATIONS.length})`,
    );
  });
});
