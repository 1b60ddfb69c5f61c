import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LocalBackend,
  MemoryRepository,
  SqliteRepository,
  type TaskBackend,
  type TaskRepository,
} from '../../src/index.js';
import type { BackendFixture, FaultPoint } from './conformance.js';
import { FakeClock, FaultyRepository, type RepositoryOperation } from './harness.js';

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
        requeueInterrupted: settings?.requeueInterrupted ?? false,
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
