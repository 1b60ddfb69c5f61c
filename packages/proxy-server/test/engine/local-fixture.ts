import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import {
  LocalBackend,
  type LocalBackendOptions,
  MemoryRepository,
  SqliteRepository,
  type TaskBackend,
  type TaskRepository,
} from '../../src/index.js';
import type { BackendFixture, FaultPoint } from './conformance.js';
import {
  FakeClock,
  FaultyRepository,
  type RepositoryOperation,
  ScriptedProcessor,
} from './harness.js';

const POINTS: Record<FaultPoint, RepositoryOperation> = {
  admit: 'insert',
  start: 'start',
  finish: 'finish',
  read: 'get',
};

/** The local backend over a fresh repository per `create()`; `memory` forgets on each. */
export async function localFixture(kind: 'memory' | 'sqlite'): Promise<BackendFixture> {
  const dataDir = kind === 'sqlite' ? await mkdtemp(join(tmpdir(), 'proxy-sqlite-')) : '';
  const clock = new FakeClock();
  const repositories = new Map<TaskBackend, TaskRepository>();
  return {
    durable: kind === 'sqlite',
    clock,
    create(settings) {
      const inner: TaskRepository =
        kind === 'memory'
          ? new MemoryRepository()
          : new SqliteRepository({ dataDir, synchronous: 'normal' });
      const repository = new FaultyRepository(inner);
      const backend = new LocalBackend(repository, {
        concurrency: settings?.concurrency ?? 2,
        maxQueueSize: settings?.maxQueueSize ?? 100,
        maxTasks: settings?.maxTasks ?? null,
        retry: settings?.retry,
        rateLimit: settings?.rateLimit ?? null,
        tenantMaxInFlight: settings?.tenantMaxInFlight ?? null,
        tenantMaxQueued: settings?.tenantMaxQueued ?? null,
        longTaskThresholdMs: settings?.longTaskThresholdMs ?? 60_000,
        maxRequeues: settings?.maxRequeues ?? 0,
        clock,
      });
      repositories.set(backend, inner);
      return {
        backend,
        faults: { failNext: (point, times) => repository.failNext(POINTS[point], times) },
      };
    },
    async crash(backend) {
      // What a dying process leaves: the open transaction rolled back, the lock released.
      repositories.get(backend)?.close();
    },
    async dispose() {
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A local backend's options with a single slot and no limit besides its queue's, on `clock`. */
export function oneSlotOptions(clock: FakeClock): LocalBackendOptions {
  return {
    concurrency: 1,
    maxQueueSize: 100,
    maxTasks: null,
    rateLimit: null,
    tenantMaxInFlight: null,
    tenantMaxQueued: null,
    longTaskThresholdMs: 60_000,
    maxRequeues: 0,
    clock,
  };
}

/**
 * One local backend with a single slot over a fresh SQLite file, `wrap`ped (to inject faults or
 * hooks), opened and running a ScriptedProcessor on a fake clock; closed and removed after the
 * test. For what only SQLite's group commit shows.
 */
export async function oneSlotSqliteBackend<R extends TaskRepository>(
  wrap: (inner: TaskRepository) => R,
  options: Partial<LocalBackendOptions> = {},
) {
  const dataDir = await mkdtemp(join(tmpdir(), 'proxy-local-'));
  const repository = wrap(new SqliteRepository({ dataDir, synchronous: 'normal' }));
  const clock = new FakeClock();
  const backend = new LocalBackend(repository, { ...oneSlotOptions(clock), ...options });
  onTestFinished(async () => {
    await backend.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  await backend.open();
  const processor = new ScriptedProcessor();
  backend.start(processor.process);
  return { backend, repository, processor, clock };
}
