import type { ChalkInstance } from 'chalk';
import { type Stats, TASK_STATUSES } from 'proxy-client/wire';
import { formatDuration } from './duration.js';
import { paintStatus } from './status.js';
import { keyValueTable, makeTable } from './table.js';

/** Task counts by status, then the proxy's capacity and load. */
export function renderStats(stats: Stats, color: ChalkInstance): string {
  const counts = makeTable(color, ['status', 'tasks']);
  for (const status of TASK_STATUSES) {
    counts.push([
      paintStatus(status, color),
      { content: String(stats.tasks[status]), hAlign: 'right' },
    ]);
  }
  counts.push([
    color.bold('total'),
    { content: color.bold(String(stats.tasks.total)), hAlign: 'right' },
  ]);

  const concurrency =
    stats.num_workers === stats.max_concurrent
      ? String(stats.effective_concurrency)
      : `${stats.effective_concurrency} (min of ${stats.num_workers} workers, max concurrent ${stats.max_concurrent})`;
  const proxy = keyValueTable(color, [
    ['target', stats.target],
    ['queue', `${stats.queue_size} / ${stats.max_queue_size}`],
    ['in flight', `${stats.in_flight} / ${concurrency}`],
    ['long tasks', String(stats.long_tasks)],
    [
      'avg processing',
      stats.avg_processing_ms === null ? '-' : formatDuration(stats.avg_processing_ms),
    ],
    [
      'since start',
      `${stats.totals.submitted} submitted · ${stats.totals.completed} completed · ` +
        `${stats.totals.failed} failed · ${stats.totals.rejected_queue_full} refused (queue full) · ` +
        `${stats.totals.removed} removed`,
    ],
    ['uptime', formatDuration(stats.uptime_s * 1000)],
    ['version', stats.version],
  ]);
  return `${counts.toString()}\n${proxy}`;
}
