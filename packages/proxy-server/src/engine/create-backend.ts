import type { Clock } from '../clock.js';
import type { StoreConfig } from '../config/config.js';
import { LocalBackend } from './local/local-backend.js';
import type { TaskRepository } from './local/task-repository.js';
import { MemoryRepository } from './memory/memory-repository.js';
import { RedisBackend } from './redis/redis-backend.js';
import { SqliteRepository } from './sqlite/sqlite-repository.js';
import type { TaskBackend } from './task-backend.js';

export interface BackendSettings {
  store: StoreConfig;
  concurrency: number;
  maxQueueSize: number;
  longTaskThresholdMs: number;
  requeueInterrupted: boolean;
  clock: Clock;
  onError: (error: unknown, doing: string) => void;
}

/** The backend the config asks for, not opened yet. */
export function createBackend(settings: BackendSettings): TaskBackend {
  const { store, ...options } = settings;
  if (store.kind === 'redis') {
    return new RedisBackend({ ...options, url: store.url, prefix: store.prefix });
  }
  const repository: TaskRepository =
    store.kind === 'memory'
      ? new MemoryRepository()
      : new SqliteRepository({ dataDir: store.dataDir, synchronous: store.synchronous });
  return new LocalBackend(repository, options);
}
