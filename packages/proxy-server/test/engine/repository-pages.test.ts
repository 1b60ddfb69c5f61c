import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { TaskRepository } from '../../src/engine/local/task-repository.js';
import { DEFAULT_POLICY } from '../../src/engine/task-record.js';
import { MemoryRepository, SqliteRepository } from '../../src/index.js';
import { completed, newTask } from './harness.js';

const T0 = 1_700_000_000_000;

const repositories: [string, () => Promise<TaskRepository>][] = [
  ['memory', async () => new MemoryRepository()],
  [
    'sqlite',
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'proxy-pages-'));
      onTestFinished(() => rm(dataDir, { recursive: true, force: true }));
      return new SqliteRepository({ dataDir, synchronous: 'normal' });
    },
  ],
];

// SQLite reads a page as one JSON text and rebuilds each row from its position in it (see
// `pageStatement`): a column read into the wrong field would show here as a row that differs
// from reading the same task by id.
describe.each(repositories)('a page of the %s repository', (_kind, create) => {
  it('carries every field a read by id gives, the result body aside', async () => {
    const repo = await create();
    repo.open();
    onTestFinished(() => repo.close());

    const plain = newTask(T0, 'plain');
    const rich = newTask(T0 + 1, 'rich "quoted" \u00e9\u{1f600}', {
      retryOf: plain.id,
      policy: {
        priority: 'high',
        tenant: 'tenant "A" \u00e9',
        deadlineAt: T0 + 60_000,
        maxAttempts: 3,
        timeoutMs: 5_000,
        callbackUrl: 'https://hooks.example/done?x=1',
      },
    });
    const failing = newTask(T0 + 2, 'failing');
    const waiting = newTask(T0 + 3, 'waiting', { policy: { ...DEFAULT_POLICY, priority: 'low' } });
    for (const [i, task] of [plain, rich, failing, waiting].entries()) repo.insert(i + 1, task);

    repo.start(plain.id, T0 + 10);
    repo.finish(plain.id, completed('done'), T0 + 20, false);
    repo.start(rich.id, T0 + 11);
    repo.retry(
      rich.id,
      {
        attempt: 1,
        startedAt: T0 + 11,
        finishedAt: T0 + 12,
        outcome: 'failed',
        statusCode: 503,
        errorCode: 'upstream_status',
        retryAt: T0 + 100,
      },
      T0 + 100,
      5,
    );
    repo.start(rich.id, T0 + 100);
    repo.finish(
      rich.id,
      {
        status: 'completed',
        result: {
          statusCode: 201,
          headers: { 'set-cookie': ['a=1', 'b="2"'], 'x-note': 'caf\u00e9 \\ "q"' },
          encoding: 'json',
          body: '{"ok":true}',
          bodyBytes: 11,
        },
        error: null,
      },
      T0 + 200,
      true,
    );
    repo.setCallback(rich.id, {
      url: 'https://hooks.example/done?x=1',
      state: 'failed',
      deliveries: [{ attempt: 1, at: T0 + 210, ok: false, statusCode: 500, error: 'status 500' }],
      nextAt: null,
    });
    repo.start(failing.id, T0 + 12);
    repo.finish(
      failing.id,
      {
        status: 'failed',
        result: null,
        error: { code: 'upstream_error', message: 'reset by "peer"\n\u00e9' },
      },
      T0 + 30,
      false,
    );
    repo.commit();

    const ids = [waiting.id, failing.id, rich.id, plain.id];
    const expected = ids.map((id) => {
      const row = repo.get(id);
      if (!row) throw new Error(`task ${id} is missing`);
      const { result, ...summary } = row;
      if (result === null) return { ...summary, result: null };
      const { body: _body, ...resultSummary } = result;
      return { ...summary, result: resultSummary };
    });

    const page = repo.list({ limit: 10, offset: 0 });
    expect(page.total).toBe(4);
    expect(page.rows).toEqual(expected);
    expect(page.rows[2]?.attemptLog).toHaveLength(2);
    expect(page.rows[2]?.callback?.deliveries).toHaveLength(1);

    const done = repo.list({ status: 'completed', limit: 10, offset: 0 });
    expect(done.rows.map((row) => row.id)).toEqual([rich.id, plain.id]);
    expect(repo.list({ status: 'completed', limit: 1, offset: 1 }).rows).toEqual([expected[3]]);
    expect(repo.list({ status: 'cancelled', limit: 10, offset: 0 }).rows).toEqual([]);
  });
});
