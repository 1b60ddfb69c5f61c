import { type Stats, TASK_STATUSES, type TaskCounts } from 'proxy-client/wire';
import type { Clock } from '../clock.js';
import type { ProxyConfig } from '../config/config.js';
import type { TaskBackend } from '../engine/task-backend.js';
import { VERSION } from '../version.js';
import type { Totals } from './totals.js';

export interface StatsReportOptions {
  config: ProxyConfig;
  backend: TaskBackend;
  totals: Totals;
  clock: Clock;
  concurrency: number;
  /** This process's name, as in its metrics' `instance` label (`--metrics-instance`). */
  instance: () => string;
}

/** `/stats`: the backend's counts, this process's totals and the settings, at O(1) cost. */
export class StatsReport {
  readonly #options: StatsReportOptions;
  readonly #startedAt: number;
  /** Uptime is counted on the monotonic clock: a wall clock set back made it negative. */
  readonly #startedSteady: number;

  constructor(options: StatsReportOptions) {
    this.#options = options;
    this.#startedAt = options.clock.now();
    this.#startedSteady = options.clock.monotonic();
  }

  async read(): Promise<Stats> {
    const { config, backend, totals, clock, concurrency, instance } = this.#options;
    const counts = await backend.counts();
    const tasks = { total: counts.total } as TaskCounts;
    for (const status of TASK_STATUSES) tasks[status] = counts[status];
    const avg = totals.avgProcessingMs;
    return {
      tasks,
      queue_size: counts.queued,
      max_queue_size: config.maxQueueSize,
      max_concurrent: config.maxConcurrent,
      num_workers: config.numWorkers,
      effective_concurrency: concurrency,
      in_flight: counts.inFlight,
      long_tasks: counts.long,
      avg_processing_ms: avg === null ? null : Math.round(avg * 10) / 10,
      totals: {
        submitted: totals.submitted,
        completed: totals.completed,
        failed: totals.failed,
        cancelled: totals.cancelled,
        expired: totals.expired,
        rejected_queue_full: totals.rejectedQueueFull,
        removed: totals.removed,
      },
      store: backend.kind,
      delivery: {
        retrying: counts.retrying,
        retries: totals.retries,
        shed: totals.shed,
        rate_limit:
          config.delivery.rateLimit === null
            ? null
            : {
                max_rps: config.delivery.rateLimit.perSecond,
                burst: config.delivery.rateLimit.burst,
              },
        // Without --fair-key every task is in one unnamed tenant: nothing to show.
        tenants: (config.delivery.fairKey === null ? [] : counts.tenants).map((load) => ({
          tenant: load.tenant,
          queued: load.queued,
          in_flight: load.inFlight,
        })),
        rejected_tenant_queue_full: totals.rejectedTenantQueueFull,
        callbacks: {
          delivered: totals.callbacksDelivered,
          failed: totals.callbacksFailed,
          pending: counts.callbacksPending,
        },
      },
      uptime_s: Math.round(clock.monotonic() - this.#startedSteady) / 1000,
      started_at: new Date(this.#startedAt).toISOString(),
      target: config.target.url,
      version: VERSION,
      instance: instance(),
    };
  }
}
