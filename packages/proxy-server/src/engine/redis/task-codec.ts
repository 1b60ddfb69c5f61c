import { isTaskStatus, type TaskError } from 'proxy-client/wire';
import { type BinaryString, bytesOf, type PackedHeaders } from '../stored-request.js';
import type { TaskEvent } from '../task-backend.js';
import {
  type AttemptRecord,
  attemptLogOf,
  type CallbackState,
  type NewTask,
  newCallback,
  PRIORITIES,
  type Priority,
  type ResultSummary,
  type TaskOutcome,
  type TaskRecord,
  type TaskRequest,
  type TaskSummary,
} from '../task-record.js';

/**
 * A task as the hash `<prefix>:task:<id>` keeps it: one flat string per field (times in epoch
 * ms, '' for null), the request's headers as their packed string, and the bytes of the request
 * and result bodies exactly as they came. The first fields, in this order, are the summary that
 * lists and events carry (task-scripts.ts reads them in the same order).
 *
 * | field | holds | field | holds |
 * | --- | --- | --- | --- |
 * | `id` | task id | `e` | error (JSON) |
 * | `m`, `p` | method, path | `rm` | result without its body (JSON) |
 * | `c`, `st`, `ct` | created, started, completed | `ro`, `ra` | retry of, retried as |
 * | `s` | status | `q` | score in line (level, turn, admission) |
 * | `l` | finished long ('1') | `rb`, `rk` | result body, 'b' bytes or 's' text |
 * | `a` | attempts | `rh`, `rq` | request headers, request body (absent: none) |
 * | `ik`, `ih` | idempotency key, request hash | `at` | admitted at (Redis time, s) |
 * | `tk` | lock token of the worker that started it | `to` | the task's call timeout (ms) |
 * | `pr` | priority level | `tn` | tenant: '' for none, else '=' and its name |
 * | `dl` | deadline to start by | `ma` | attempts at most |
 * | `na` | next attempt due (while retrying) | `al` | earlier attempts (JSON) |
 * | `cb` | callback state (JSON) | `vt`, `jp` | turn, job priority (fair sharing) |
 */
export const SUMMARY_FIELDS = [
  'id',
  'm',
  'p',
  'c',
  's',
  'st',
  'ct',
  'l',
  'a',
  'e',
  'rm',
  'ro',
  'ra',
  'q',
  'pr',
  'tn',
  'dl',
  'ma',
  'na',
  'al',
  'cb',
] as const;

type SummaryField = (typeof SUMMARY_FIELDS)[number];
type FieldReader = (field: string) => string;

/** What a script replies for a task: its place in line ('' when none) and its summary fields. */
export function summaryFrom(position: string, values: readonly string[]): TaskSummary {
  return summaryOf(
    (field) => values[SUMMARY_FIELDS.indexOf(field as SummaryField)] ?? '',
    position,
  );
}

/** A task from its whole hash, as Redis gave it (bytes), with its place in line. */
export function recordFrom(position: string, hash: ReadonlyMap<string, Buffer>): TaskRecord {
  const read: FieldReader = (field) => hash.get(field)?.toString('utf8') ?? '';
  const summary = summaryOf(read, position);
  if (summary.result === null) return Object.assign(summary, { result: null });
  const bytes = hash.get('rb') ?? Buffer.alloc(0);
  const body = read('rk') === 'b' ? bytes : bytes.toString('utf8');
  return Object.assign(summary, { result: Object.assign(summary.result, { body }) });
}

export function requestFrom(
  method: string,
  path: string,
  headers: Buffer,
  body: Buffer | null,
): TaskRequest {
  return {
    method,
    path,
    headers: headers.toString('utf8') as PackedHeaders,
    body: body === null ? null : (body.toString('latin1') as BinaryString),
  };
}

/**
 * A task's priority level as a number (high 1, normal 2, low 3): the level in the pending index,
 * from which the admit script makes BullMQ's job priority (a lower one runs first).
 */
export function levelOf(priority: Priority): number {
  return PRIORITIES.indexOf(priority) + 1;
}

/**
 * A tenant as the `tn` field keeps it. Marked, since fair sharing's tenant may be '' (a task
 * without the tenant header), which a task without fair sharing must not read as.
 */
const tenantField = (tenant: string | null): string => (tenant === null ? '' : `=${tenant}`);
const tenantOf = (field: string): string | null => (field === '' ? null : field.slice(1));

/** ARGV for the admit script, after the common three: the task and its request. */
export function admitArgs(task: NewTask): (string | Buffer)[] {
  const { request } = task;
  return [
    task.id,
    String(task.createdAt),
    request.method,
    request.path,
    request.headers,
    request.body === null ? '' : bytesOf(request.body),
    request.body === null ? '0' : '1',
    task.idempotencyKey ?? '',
    task.requestHash ?? '',
    task.retryOf ?? '',
    String(levelOf(task.policy.priority)),
    tenantField(task.policy.tenant),
    task.policy.deadlineAt === null ? '' : String(task.policy.deadlineAt),
    String(task.policy.maxAttempts),
    task.policy.timeoutMs === null ? '' : String(task.policy.timeoutMs),
    task.policy.callbackUrl === null ? '' : JSON.stringify(newCallback(task.policy.callbackUrl)),
  ];
}

/** How a task ends: the outcome, when, and whether its call was long. */
export interface Finish {
  outcome: TaskOutcome;
  completedAt: number;
  isLong: boolean;
}

/** ARGV for the finish script, after the id: status, times, error, result and its body. */
export function finishArgs({ outcome, completedAt, isLong }: Finish): (string | Buffer)[] {
  const { result, error } = outcome;
  const meta =
    result === null
      ? ''
      : JSON.stringify({
          statusCode: result.statusCode,
          headers: result.headers,
          encoding: result.encoding,
          bodyBytes: result.bodyBytes,
        } satisfies ResultSummary);
  return [
    outcome.status,
    String(completedAt),
    isLong ? '1' : '0',
    error === null ? '' : JSON.stringify(error),
    meta,
    result === null ? '' : result.body,
    result === null ? '' : Buffer.isBuffer(result.body) ? 'b' : 's',
  ];
}

/**
 * An entry of the event stream (`t` type, `o` origin, `pos`, `n` count, the summary's fields)
 * as the event it is; `origin` is this instance's id, which makes the event `local`.
 */
export function eventFrom(id: string, flat: readonly string[], origin: string): TaskEvent {
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i] as string, flat[i + 1] as string);
  const read: FieldReader = (field) => fields.get(field) ?? '';
  const local = read('o') === origin;
  const type = read('t');
  if (type === 'removed') return { id, type, count: Number(read('n')), local };
  if (
    type === 'created' ||
    type === 'started' ||
    type === 'retrying' ||
    type === 'finished' ||
    type === 'requeued'
  ) {
    return { id, type, task: summaryOf(read, read('pos')), local };
  }
  throw new Error(`event ${id} has an unknown type '${type}'`);
}

function summaryOf(read: FieldReader, position: string): TaskSummary {
  const status = read('s');
  if (!isTaskStatus(status))
    throw new Error(`task ${read('id')} has an unknown status '${status}'`);
  const task = {
    status,
    attempts: Number(read('a')),
    startedAt: timeOrNull(read('st')),
    completedAt: timeOrNull(read('ct')),
    result: jsonOrNull<ResultSummary>(read('rm')),
    error: jsonOrNull<TaskError>(read('e')),
  };
  return {
    ...task,
    id: read('id'),
    method: read('m'),
    path: read('p'),
    createdAt: Number(read('c')),
    isLong: read('l') === '1',
    queuePosition: position === '' ? null : Number(position),
    retryOf: read('ro') || null,
    retriedAs: read('ra') || null,
    priority: PRIORITIES[Number(read('pr') || '2') - 1] ?? 'normal',
    tenant: tenantOf(read('tn')),
    deadlineAt: timeOrNull(read('dl')),
    maxAttempts: Number(read('ma') || '1'),
    nextAttemptAt: timeOrNull(read('na')),
    attemptLog: attemptLogOf(task, jsonOrNull<AttemptRecord[]>(read('al')) ?? []),
    callback: jsonOrNull<CallbackState>(read('cb')),
  };
}

const timeOrNull = (text: string): number | null => (text === '' ? null : Number(text));

/** The JSON this module wrote itself, of the type it wrote. */
function jsonOrNull<T>(text: string): T | null {
  return text === '' ? null : (JSON.parse(text) as T);
}
