import type { Clock } from '../clock.js';
import type { DeliveryConfig, StoreConfig } from '../config/config.js';
import { LocalBackend } from '../engine/local/local-backend.js';
import type { TaskRepository } from '../engine/local/task-repository.js';
import { MemoryRepository } from '../engine/memory/memory-repository.js';
import { RedisBackend } from '../engine/redis/redis-backend.js';
import { NEVER_RETRY, retryPolicy } from '../engine/retry-policy.js';
import { SqliteRepository } from '../engine/sqlite/sqlite-repository.js';
import type { TaskBackend } from '../engine/task-backend.js';

export interface BackendSettings {
  store: StoreConfig;
  concurrency: number;
  maxQueueSize: number;
  maxTasks: number | null;
  delivery: DeliveryConfig;
  longTaskThresholdMs: number;
  /** How many times a task cut off goes back to the queue: 0 without --requeue-interrupted. */
  maxRequeues: number;
  clock: Clock;
  onError: (error: unknown, doing: string) => void;
  /** What the operator should know that is no failure (a shared setting changed). */
  onWarning: (message: string) => void;
}

/** The backend the config asks for, not opened yet. */
export function createBackend(settings: BackendSettings): TaskBackend {
  const { store, delivery, ...options } = settings;
  if (store.kind === 'redis') {
    return new RedisBackend({
      ...options,
      ...deliveryOptions(delivery),
      url: store.url,
      prefix: store.prefix,
    });
  }
  const repository: TaskRepository =
    store.kind === 'memory'
      ? new MemoryRepository()
      : new SqliteRepository({
          dataDir: store.dataDir,
          synchronous: store.synchronous,
          clock: options.clock,
        });
  return new LocalBackend(repository, { ...options, ...deliveryOptions(delivery) });
}

/** The backend's share of the delivery policy: retries, the rate limit, per-tenant caps. */
function deliveryOptions(delivery: DeliveryConfig) {
  return {
    retry:
      delivery.retryOn === null
        ? NEVER_RETRY
        : retryPolicy({
            retryOn: delivery.retryOn,
            minDelayMs: delivery.retryMinDelayMs,
            maxDelayMs: delivery.retryMaxDelayMs,
          }),
    rateLimit: delivery.rateLimit,
    tenantMaxInFlight: delivery.tenantMaxInFlight,
    tenantMaxQueued: delivery.tenantMaxQueued,
  };
}
