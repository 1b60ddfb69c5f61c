import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'libsql';
import type { DataBody, Task } from 'proxy-client/wire';
import { spawnProxyServer, waitFor } from 'test-support';
import { describe, expect, it, onTestFinished } from 'vitest';
import { checkOwnership, scalar } from '../../src/engine/sqlite/schema.js';
import { startTarget } from '../helper.js';

// Operator pass: the first SQLite builds wrote schema version 1 with fewer columns (the later
// ones were added to migration 1 in place, so no version told the shapes apart). A data dir such
// a build filled was refused at the next start with `cannot open the task database .../tasks.db:
// table tasks has no column named queue_order` (exit 2), its tasks out of reach; the docs promise
// that an upgrade migrates the file in place. It now gains the missing columns at open.

/** `tasks` as the first SQLite build (0b73522) created it, with its version and mark. */
const FIRST_SCHEMA = `
  CREATE TABLE tasks (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    status_order INTEGER NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
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
    result_body,
    error_code TEXT,
    error_message TEXT
  );
  CREATE INDEX tasks_by_status ON tasks (status, status_order);
  CREATE INDEX tasks_by_completion ON tasks (completed_at) WHERE completed_at IS NOT NULL;
  CREATE INDEX tasks_long ON tasks (is_long) WHERE is_long = 1;
  PRAGMA application_id = 1347573849;
  PRAGMA user_version = 1;`;

const COMPLETED = '85d8bd3e-a0ef-4cac-a817-885c4b8e630a';
const PENDING = ['6422998c-9e7e-4959-94b3-5aa0432a8389', 'ffa7b057-6b99-4fc5-8a98-bfd5a41a1a1b'];

/** A data dir as the first build left it: one task finished, two waiting (rows as it wrote them). */
async function firstBuildDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'proxy-first-build-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const db = new Database(join(dir, 'tasks.db'));
  db.exec(FIRST_SCHEMA);
  const headers = Buffer.from('Host\u0000proxy\u0000Content-Type\u0000text/plain', 'latin1');
  const insert = db.prepare(
    `INSERT INTO tasks (seq, id, status, status_order, method, path, request_headers, request_body,
       created_at, started_at, completed_at, attempts, result_status, result_headers,
       result_encoding, result_bytes, result_body)
     VALUES (?, ?, ?, ?, 'POST', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  insert.run(
    1,
    COMPLETED,
    'completed',
    4,
    '/api/fast1',
    headers,
    Buffer.from('b1'),
    1796296277696,
    1796296277699,
    1796296277719,
    1,
    200,
    '{"content-type":"application/json","content-length":"11"}',
    'json',
    11,
    '{"done":true}',
  );
  for (const [index, id] of PENDING.entries()) {
    insert.run(
      index + 2,
      id,
      'pending',
      index + 5,
      `/api/text?text=waited-${index}`,
      headers,
      Buffer.from('s'),
      1796296278244 + index,
      null,
      null,
      0,
      null,
      null,
      null,
      null,
      null,
    );
  }
  db.close();
  return dir;
}

const task = async (url: string, id: string) =>
  ((await (await fetch(`${url}/task/${id}`)).json()) as DataBody<Task>).data;

describe('a data dir filled by the first SQLite build', () => {
  it('opens: the finished task keeps its result and the waiting ones run', async () => {
    const target = await startTarget();
    const dataDir = await firstBuildDataDir();
    const proxy = await spawnProxyServer({
      args: ['--target-url', target.url, '--data-dir', dataDir, '--max-queue-size', '1'],
    });
    onTestFinished(async () => {
      await proxy.stop('SIGKILL');
    });
    expect(proxy.output()).toContain('3 held, 2 pending');
    // Operator pass: a backlog past the queue's size refused every submission without a word.
    expect(proxy.output()).toContain(
      '0 interrupted; 2 waiting, more than --max-queue-size 1: submissions get 503 queue_full until fewer wait',
    );
    expect(await task(proxy.url, COMPLETED)).toMatchObject({
      status: 'completed',
      result: { status_code: 200, body: { done: true } },
    });
    for (const [index, id] of PENDING.entries()) {
      const done = await waitFor(async () => {
        const seen = await task(proxy.url, id);
        return seen.status === 'completed' ? seen : null;
      });
      expect(done.result?.body).toBe(`waited-${index}`);
    }
  });

  // Operator pass: the upgrade said nothing at start, and left the file at version 1, where the
  // first build (whose check is checkOwnership with version 1 the last it knows) took it back
  // after a downgrade and wrote rows without the late columns into it.
  it('says it upgraded the file, which a build that knows only version 1 then refuses', async () => {
    const target = await startTarget();
    const dataDir = await firstBuildDataDir();
    const proxy = await spawnProxyServer({
      args: ['--target-url', target.url, '--data-dir', dataDir],
    });
    onTestFinished(async () => {
      await proxy.stop('SIGKILL');
    });
    expect(proxy.output()).toContain(
      '; its schema upgraded from version 1 to 2 (builds that know only version 1 refuse it from now on)',
    );
    expect((await proxy.stop()).code).toBe(0);
    const path = join(dataDir, 'tasks.db');
    const db = new Database(path);
    onTestFinished(() => {
      db.close();
    });
    expect(() => checkOwnership(db, path, 1)).toThrow(
      `${path} has schema version 2, made by a newer proxy-server (this one knows up to 1)`,
    );
    expect(scalar(db, 'SELECT count(*) AS value FROM tasks')).toBe(3);
  });
});
