import { type DeliveryStats, type Stats, TASK_STATUSES } from 'proxy-client/wire';
import { showControls } from './control-chars.js';
import { formatDuration } from './duration.js';
import { paintStatus } from './status.js';
import { keyValueTable, type Look, makeTable, type PlainCell, tsv } from './table.js';

/**
 * The stats as sent: the contract requires the counts, the queue, the workers, the load, uptime
 * and the target; a proxy other than proxy-server, or an older one, may send no more.
 */
export type SentStats = Omit<Stats, BeyondContract> & Partial<Pick<Stats, BeyondContract>>;
type BeyondContract =
  | 'effective_concurrency'
  | 'totals'
  | 'store'
  | 'delivery'
  | 'started_at'
  | 'version'
  | 'instance';

/** Task counts by status, then the proxy's capacity and load. */
export function renderStats(stats: SentStats, look: Look): string {
  return look.plain ? plainStats(stats) : boxedStats(stats, look);
}

/** The count of one status; a proxy older than this CLI may not count every status it knows. */
function countOf(stats: SentStats, status: string): number {
  return (stats.tasks as unknown as Partial<Record<string, number>>)[status] ?? 0;
}

/** How many calls to the target can be in flight at once: the smaller of workers and the cap. */
export function effectiveConcurrency(stats: SentStats): number {
  return stats.effective_concurrency ?? Math.min(stats.num_workers, stats.max_concurrent);
}

function boxedStats(stats: SentStats, { color, columns }: Look): string {
  const counts = makeTable(color, ['status', 'tasks']);
  for (const status of TASK_STATUSES) {
    counts.push([
      paintStatus(status, color),
      { content: shown(countOf(stats, status)), hAlign: 'right' },
    ]);
  }
  counts.push([
    color.bold('total'),
    { content: color.bold(shown(stats.tasks.total)), hAlign: 'right' },
  ]);

  const concurrency =
    stats.num_workers === stats.max_concurrent
      ? String(effectiveConcurrency(stats))
      : `${effectiveConcurrency(stats)} (min of ${stats.num_workers} workers, max concurrent ${stats.max_concurrent})`;
  const rows: Array<[string, string]> = [
    ['target', stats.target],
    ['queue', `${stats.queue_size} / ${stats.max_queue_size}`],
    ['in flight', `${stats.in_flight} / ${concurrency}`],
    ['long tasks', String(stats.long_tasks)],
    [
      'avg processing',
      stats.avg_processing_ms === null ? '-' : formatDuration(stats.avg_processing_ms),
    ],
  ];
  const { totals } = stats;
  if (totals) {
    rows.push([
      'since start',
      `${totals.submitted} submitted · ${totals.completed} completed · ` +
        `${totals.failed} failed · ${totals.rejected_queue_full} refused (queue full) · ` +
        `${totals.removed} removed`,
    ]);
  }
  rows.push(...deliveryRows(stats));
  // Which store, and whether the proxy restarted: what troubleshooting asks a reader to check.
  if (stats.store !== undefined) rows.push(['store', stats.store]);
  // Behind a load balancer the totals and uptime are those of whichever instance answered.
  if (stats.instance !== undefined) rows.push(['instance', stats.instance]);
  const uptime = formatDuration(stats.uptime_s * 1000);
  rows.push([
    'uptime',
    stats.started_at === undefined ? uptime : `${uptime} (started ${stats.started_at})`,
  ]);
  if (stats.version !== undefined) rows.push(['version', stats.version]);
  // No value is coloured, and each holds the proxy's words: its numbers too, which nothing
  // checks are numbers (a proxy may send `"total": "3\u001b[2J"`).
  const proxy = keyValueTable(
    color,
    rows.map(([key, value]): [string, string] => [key, showControls(value)]),
    columns,
  );
  return `${counts.toString()}\n${proxy}`;
}

/** A count as sent, on a terminal: the stats pass the SDK unchecked, so it may be any text. */
function shown(count: unknown): string {
  return showControls(String(count));
}

/** What the delivery policy did, where it did anything; a proxy older than it sends nothing. */
function deliveryRows({ delivery, totals }: SentStats): Array<[string, string]> {
  if (!delivery) return [];
  const rows: Array<[string, string]> = [];
  if (delivery.retrying > 0 || delivery.retries > 0) {
    rows.push(['retries', `${delivery.retrying} waiting · ${delivery.retries} since start`]);
  }
  if (delivery.shed > 0 || (totals?.expired ?? 0) > 0) {
    rows.push(['shed · expired', `${delivery.shed} · ${totals?.expired ?? 0} since start`]);
  }
  if (delivery.rate_limit) {
    rows.push([
      'rate limit',
      `${delivery.rate_limit.max_rps}/s, burst ${delivery.rate_limit.burst}`,
    ]);
  }
  for (const load of delivery.tenants) {
    // A tenant is whatever a caller put in X-Proxy-Tenant, C1 controls (latin-1 bytes) included.
    const name = load.tenant === '' ? '(unnamed)' : showControls(load.tenant);
    rows.push([`tenant ${name}`, `${load.queued} queued · ${load.in_flight} in flight`]);
  }
  const tenantRefused = delivery.rejected_tenant_queue_full ?? 0;
  if (tenantRefused > 0) {
    rows.push(['tenant queue full', `${tenantRefused} refused since start`]);
  }
  // Absent from proxies before it: shown as none waiting.
  const { delivered, failed, pending = 0 } = delivery.callbacks;
  if (delivered > 0 || failed > 0 || pending > 0) {
    const waiting = pending > 0 ? ` · ${pending} pending` : '';
    rows.push(['callbacks', `${delivered} delivered · ${failed} given up${waiting}`]);
  }
  return rows;
}

/**
 * The fields of one line of `--stats --watch` off a terminal, after the time it was read: the
 * counts by status, then the load.
 */
export const STATS_LINE_FIELDS = [
  ...TASK_STATUSES.map((status) => `tasks.${status}`),
  'tasks.total',
  'queue_size',
  'in_flight',
  'long_tasks',
] as const;

/** One line of `--stats --watch` off a terminal: the time, then `STATS_LINE_FIELDS`, tab-separated. */
export function renderStatsLine(stats: SentStats, at: Date): string {
  return tsv([
    [
      at.toISOString(),
      ...TASK_STATUSES.map((status) => countOf(stats, status)),
      stats.tasks.total,
      stats.queue_size,
      stats.in_flight,
      stats.long_tasks,
    ],
  ]);
}

/**
 * `name<TAB>value` lines, each name the field's path in the JSON document (`tasks.pending`); a
 * field the proxy did not send has no line.
 */
function plainStats(stats: SentStats): string {
  return tsv([
    ...TASK_STATUSES.map((status) => [`tasks.${status}`, countOf(stats, status)]),
    ['tasks.total', stats.tasks.total],
    ['target', stats.target],
    ['queue_size', stats.queue_size],
    ['max_queue_size', stats.max_queue_size],
    ['in_flight', stats.in_flight],
    ...ifSent('effective_concurrency', stats.effective_concurrency),
    ['num_workers', stats.num_workers],
    ['max_concurrent', stats.max_concurrent],
    ['long_tasks', stats.long_tasks],
    ['avg_processing_ms', stats.avg_processing_ms],
    ...Object.entries(stats.totals ?? {}).map(([name, value]) => [`totals.${name}`, value]),
    ...(stats.delivery ? plainDelivery(stats.delivery) : []),
    ...ifSent('store', stats.store),
    ['uptime_s', stats.uptime_s],
    ...ifSent('started_at', stats.started_at),
    ...ifSent('version', stats.version),
    ...ifSent('instance', stats.instance),
  ]);
}

/** The row of a field, or none when the proxy did not send it. */
function ifSent(name: string, value: PlainCell): Array<[string, PlainCell]> {
  return value === undefined ? [] : [[name, value]];
}

function plainDelivery(delivery: DeliveryStats): Array<[string, PlainCell]> {
  return [
    ['delivery.retrying', delivery.retrying],
    ['delivery.retries', delivery.retries],
    ['delivery.shed', delivery.shed],
    ['delivery.rate_limit.max_rps', delivery.rate_limit?.max_rps],
    ['delivery.rate_limit.burst', delivery.rate_limit?.burst],
    ...delivery.tenants.flatMap(
      (load, index): Array<[string, PlainCell]> => [
        [`delivery.tenants.${index}.tenant`, load.tenant],
        [`delivery.tenants.${index}.queued`, load.queued],
        [`delivery.tenants.${index}.in_flight`, load.in_flight],
      ],
    ),
    ...ifSent('delivery.rejected_tenant_queue_full', delivery.rejected_tenant_queue_full),
    ['delivery.callbacks.delivered', delivery.callbacks.delivered],
    ['delivery.callbacks.failed', delivery.callbacks.failed],
    ...ifSent('delivery.callbacks.pending', delivery.callbacks.pending),
  ];
}
