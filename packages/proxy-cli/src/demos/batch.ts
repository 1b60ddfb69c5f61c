import { isTerminalStatus, TASK_STATUSES, type Task, type TaskStatus } from 'proxy-client/wire';
import { watchWhilePending } from '../commands/watch-pending.js';
import type { CommandContext } from '../context.js';
import { displayWidth } from '../render/display-width.js';
import { formatDuration } from '../render/duration.js';
import { effectiveConcurrency } from '../render/stats.js';
import { paintStatus } from '../render/status.js';
import { boxedWidth, makeTable, tsv } from '../render/table.js';
import { heading, say } from './narrate.js';

const SIZE = 12;
const TICK_MS = 100;
const SHORT_ID_CHARS = 8;

export interface BatchReport {
  name: 'batch';
  effective_concurrency: number;
  /** Sum of the target's delays: how long the batch would take one at a time. */
  work_ms: number;
  /** How long the whole batch took, submit to last result. */
  wall_ms: number;
  tasks: Task[];
}

/** A batch submitted at once; the proxy runs a few at a time and queues the rest. */
export async function batchDemo(ctx: CommandContext): Promise<BatchReport> {
  const { client, output, options, signal } = ctx;
  const stats = await client.getStats({ signal });
  const concurrency = effectiveConcurrency(stats);
  // A spread of delays from 0.4 s to 1.6 s, the same on every run.
  const delays = Array.from({ length: SIZE }, (_, i) => 400 + ((i * 337) % 1200));
  const workMs = delays.reduce((sum, d) => sum + d, 0);
  heading(ctx, `batch: ${SIZE} tasks at once`, [
    `The proxy calls the target at most ${concurrency} at a time, the smaller of --num-workers ${stats.num_workers}`,
    `and --max-concurrent ${stats.max_concurrent}; the rest wait in its queue.`,
    `Each task asks the target for 0.4 s to 1.6 s of delay: ${formatDuration(workMs)} of work in all.`,
  ]);
  const busy = stats.in_flight + stats.queue_size;
  if (busy > 0) {
    say(
      ctx,
      output.color.yellow(
        `The proxy is already busy with ${busy} other task(s); the batch shares its workers.`,
      ),
    );
  }

  const started = performance.now();
  const ids = await Promise.all(
    delays.map((delay_ms, i) =>
      client.submitTask(
        'api/function1',
        { item: i + 1, delay_ms },
        { signal, queueFullRetries: 5 },
      ),
    ),
  );
  const statuses = new Map<string, TaskStatus>(ids.map((id) => [id, 'pending']));
  const line = () => {
    const counts = TASK_STATUSES.map(
      (s) => [s, [...statuses.values()].filter((v) => v === s).length] as const,
    );
    const done = counts.filter(([s]) => isTerminalStatus(s)).reduce((n, [, c]) => n + c, 0);
    const parts = counts
      .filter(([, c]) => c > 0)
      .map(([s, c]) => `${c} ${paintStatus(s, output.errColor)}`);
    return `batch: ${done}/${SIZE} done · ${parts.join(' · ')} · ${formatDuration(performance.now() - started)}`;
  };
  const progress = output.progress(line());
  const ticker = setInterval(() => progress.update(line()), TICK_MS);
  ticker.unref();
  const watchers = output.interactive
    ? ids.map((id) => watchWhilePending(client, id, (task) => statuses.set(id, task.status)))
    : [];
  let tasks: Task[];
  try {
    tasks = await Promise.all(
      ids.map((id, i) =>
        client
          .waitForTask(id, {
            signal,
            throwOnFailure: false,
            ...(options.pollIntervalMs !== undefined && { pollIntervalMs: options.pollIntervalMs }),
            ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
            onStatus: (task) => statuses.set(id, task.status),
          })
          .then((task) => {
            statuses.set(id, task.status);
            if (!output.interactive) output.note(`task ${i + 1}/${SIZE} ${task.status}`);
            return task;
          }),
      ),
    );
  } finally {
    clearInterval(ticker);
    for (const watcher of watchers) watcher.stop();
    progress.stop();
  }
  const wallMs = performance.now() - started;

  say(ctx, batchTable(ctx, tasks, delays));
  say(
    ctx,
    `${SIZE} tasks, ${formatDuration(workMs)} of work, done in ${formatDuration(wallMs)}: ` +
      `${concurrency} at a time, the others queued.`,
  );
  return {
    name: 'batch',
    effective_concurrency: concurrency,
    work_ms: workMs,
    wall_ms: Math.round(wallMs),
    tasks,
  };
}

/** The batch's tasks in order; off a terminal, tab-separated rows of milliseconds. */
function batchTable(
  ctx: CommandContext,
  tasks: readonly Task[],
  delays: readonly number[],
): string {
  const { color, plain, columns } = ctx.output.look;
  if (plain) {
    return tsv(
      tasks.map((task, i) => [
        i + 1,
        task.task_id,
        task.status,
        delays[i],
        task.queue_ms,
        task.duration_ms,
      ]),
    );
  }
  const head = ['#', 'task id', 'status', 'delay', 'queued', 'took'];
  const rows = tasks.map((task, i) => [
    String(i + 1),
    task.task_id,
    paintStatus(task.status, color),
    formatDuration(delays[i] ?? 0),
    formatDuration(task.queue_ms),
    task.duration_ms === null ? '' : formatDuration(task.duration_ms),
  ]);
  // Whole ids make the table 84 wide: on a narrower terminal their first 8 characters stand in,
  // as git shortens hashes, still enough to tell the 12 apart; --json has every id whole.
  if (columns !== undefined && tableWidth([head, ...rows]) > columns) {
    for (const row of rows) row[1] = `${row[1]?.slice(0, SHORT_ID_CHARS)}…`;
  }
  const table = makeTable(color, head);
  table.push(...rows);
  return table.toString();
}

/** Columns a boxed table of these rows takes. */
function tableWidth(rows: ReadonlyArray<readonly string[]>): number {
  return boxedWidth(
    (rows[0] ?? []).map((_, i) => Math.max(...rows.map((row) => displayWidth(row[i] ?? '')))),
  );
}
