import type { Task } from 'proxy-client/wire';
import { formatBody } from './body.js';
import { showControls } from './control-chars.js';
import { formatDuration } from './duration.js';
import { formatStartsIn, msToStart } from './expected-start.js';
import { paintStatus } from './status.js';
import { keyValueTable, type Look, tsv } from './table.js';

/** One task in full: its fields in a table, then the target's answer body. */
export function renderTask(task: Task, look: Look): string {
  return look.plain ? plainTask(task, look) : boxedTask(task, look);
}

function boxedTask(task: Task, { color, columns }: Look): string {
  // The SDK checks that task_id and status are strings, not what they say: a proxy other than
  // proxy-server may put any text in any of these fields.
  const rows: Array<[string, string]> = [
    ['task id', showControls(task.task_id)],
    [
      'status',
      paintStatus(task.status, color) + (task.is_long_task ? color.magenta('  (long task)') : ''),
    ],
    ['request', showControls(`${task.method} ${task.path}`)],
    ['created', showControls(task.created_at)],
  ];
  if (task.queue_position !== null) {
    rows.push(['queue position', showControls(String(task.queue_position))]);
  }
  const toStart = msToStart(task);
  if (task.estimated_start_at !== null) {
    const startsIn = toStart === null ? '' : ` (${formatStartsIn(toStart)})`;
    rows.push(['expected start', showControls(task.estimated_start_at) + startsIn]);
  }
  rows.push(['queued for', formatDuration(task.queue_ms)]);
  if (task.started_at !== null) rows.push(['started', showControls(task.started_at)]);
  if (task.duration_ms !== null) {
    rows.push([
      task.completed_at === null ? 'running for' : 'took',
      formatDuration(task.duration_ms),
    ]);
  }
  if (task.completed_at !== null) rows.push(['finished', showControls(task.completed_at)]);
  rows.push(
    ...policyRows(task).map(([key, value]): [string, string] => [key, showControls(value)]),
  );
  // Older proxies send neither link.
  if (task.retry_of) rows.push(['retry of', showControls(task.retry_of)]);
  if (task.retried_as) rows.push(['retried as', showControls(task.retried_as)]);
  if (task.result) {
    const code = task.result.status_code;
    const ok = code >= 200 && code < 300;
    const shownCode = showControls(String(code));
    rows.push(['target answered', ok ? color.green(shownCode) : color.red(shownCode)]);
  }
  // upstream_status only repeats the status code shown above.
  if (task.error && task.error.code !== 'upstream_status') {
    rows.push(['error', color.red(showControls(`${task.error.code}: ${task.error.message}`))]);
  }

  const parts = [keyValueTable(color, rows, columns)];
  if (task.result) parts.push(color.bold('Result body'), showControls(formatBody(task.result)));
  return parts.join('\n');
}

/**
 * What the delivery policy made of the task, when it made anything: a priority other than
 * normal, its tenant, a deadline, attempts (each earlier call, and when the next is due), the
 * callback. A proxy older than the delivery policy sends none of these.
 */
function policyRows(task: Task): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  if (task.priority && task.priority !== 'normal') rows.push(['priority', task.priority]);
  if (typeof task.tenant === 'string') {
    rows.push(['tenant', task.tenant === '' ? '(unnamed: no tenant given)' : task.tenant]);
  }
  if (task.deadline_at) rows.push(['start by', task.deadline_at]);
  // A requeued task (--requeue-interrupted) may have made more calls than retries allow.
  const most = task.max_attempts ?? 1;
  if (most > 1 && task.attempts <= most) {
    rows.push(['attempts', `${task.attempts} of at most ${most}`]);
  } else if (task.attempts > 1) rows.push(['attempts', String(task.attempts)]);
  for (const attempt of task.attempt_history ?? []) {
    // The task's own fields show its last call; a call a stop cut off was run again.
    if (attempt.attempt === task.attempts && attempt.retry_at === null) continue;
    const why = attempt.status_code ?? attempt.error_code ?? attempt.outcome;
    rows.push([`attempt ${attempt.attempt}`, `${why} at ${attempt.finished_at}, tried again`]);
  }
  if (task.next_attempt_at) rows.push(['next attempt', task.next_attempt_at]);
  if (task.callback) {
    const { state, url, deliveries, next_at: nextAt } = task.callback;
    const tries = deliveries.length === 1 ? '1 delivery' : `${deliveries.length} deliveries`;
    rows.push(['callback', `${state} (${tries}) to ${url}${nextAt ? `, next at ${nextAt}` : ''}`]);
  }
  return rows;
}

/**
 * `field<TAB>value` lines named as in the JSON document, then, when the target answered, a `--`
 * line and its body in full (as `gh` separates fields from a body), so `> file` keeps all of it.
 */
function plainTask(task: Task, { color }: Look): string {
  const fields = tsv([
    ['task_id', task.task_id],
    // Uncoloured unless FORCE_COLOR asked for colour off a terminal.
    ['status', paintStatus(task.status, color)],
    ['method', task.method],
    ['path', task.path],
    ['created_at', task.created_at],
    ['started_at', task.started_at],
    ['completed_at', task.completed_at],
    ['is_long_task', task.is_long_task],
    ['queue_position', task.queue_position],
    ['estimated_start_at', task.estimated_start_at],
    ['queue_ms', task.queue_ms],
    ['duration_ms', task.duration_ms],
    ['attempts', task.attempts],
    ['max_attempts', task.max_attempts],
    ['next_attempt_at', task.next_attempt_at],
    ['priority', task.priority],
    ['tenant', task.tenant],
    ['deadline_at', task.deadline_at],
    ['callback.state', task.callback?.state],
    ['callback.url', task.callback?.url],
    ['callback.next_at', task.callback?.next_at],
    ['retry_of', task.retry_of],
    ['retried_as', task.retried_as],
    ['result.status_code', task.result?.status_code],
    ['result.body_encoding', task.result?.body_encoding],
    ['error.code', task.error?.code],
    ['error.message', task.error?.message],
  ]);
  return task.result ? `${fields}\n--\n${formatBody(task.result, { full: true })}` : fields;
}

/** Why a task did not complete, in one line. */
export function failureReason(task: Task): string {
  if (task.error && task.error.code !== 'upstream_status') return task.error.message;
  if (task.result) return `the target answered ${task.result.status_code}`;
  return task.error?.message ?? 'no reason given';
}

/** What to say when a finished task did not complete: `failed: …`, or the status it ended in. */
export function endedWithout(task: Task): string {
  return task.status === 'failed'
    ? `task ${task.task_id} failed: ${failureReason(task)}`
    : `task ${task.task_id} ended ${task.status}${task.error ? `: ${task.error.message}` : ''}`;
}
