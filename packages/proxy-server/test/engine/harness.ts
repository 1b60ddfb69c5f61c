import type { StartedRow } from '../../src/engine/local/task-repository.js';
import { binaryStringOf, packHeaders } from '../../src/engine/stored-request.js';
import type { ListQuery } from '../../src/engine/task-backend.js';
import { DEFAULT_POLICY } from '../../src/engine/task-record.js';
import type {
  AttemptRecord,
  CallbackState,
  Clock,
  NewTask,
  OpenedRepository,
  RepositoryCounts,
  SummaryRow,
  TaskBackend,
  TaskJob,
  TaskOutcome,
  TaskProcessor,
  TaskRepository,
  TaskRequest,
  TaskRow,
} from '../../src/index.js';

/**
 * A clock the test moves by hand; timers fire as it passes them. `stepWall` moves only the wall
 * clock, as NTP or an operator setting the date does: the monotonic clock and timers go on.
 */
export class FakeClock implements Clock {
  #monotonic = 0;
  /** The wall clock minus the monotonic one. */
  #wallOffset: number;
  #timers = new Map<number, { at: number; callback: () => void }>();
  #nextId = 1;

  constructor(start = 1_700_000_000_000) {
    this.#wallOffset = start;
  }

  now(): number {
    return this.#monotonic + this.#wallOffset;
  }

  monotonic(): number {
    return this.#monotonic;
  }

  setTimeout(callback: () => void, ms: number) {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.#monotonic + ms, callback });
    return { id, unref: () => undefined };
  }

  clearTimeout(timer: unknown): void {
    this.#timers.delete((timer as { id: number }).id);
  }

  /** Moves time on, firing every timer due by then in order. */
  advance(ms: number): void {
    const end = this.#monotonic + ms;
    for (;;) {
      const due = [...this.#timers]
        .filter(([, t]) => t.at <= end)
        .sort((a, b) => a[1].at - b[1].at);
      const first = due[0];
      if (!first) break;
      this.#timers.delete(first[0]);
      this.#monotonic = Math.max(this.#monotonic, first[1].at);
      first[1].callback();
    }
    this.#monotonic = end;
  }

  /** Steps the wall clock by `ms` (back if negative); no time passes and no timer fires. */
  stepWall(ms: number): void {
    this.#wallOffset += ms;
  }
}

export type RepositoryOperation =
  | 'insert'
  | 'start'
  | 'finish'
  | 'requeue'
  | 'get'
  | 'list'
  | 'counts'
  | 'removeFinished';

/** A repository that throws on the operations a test names, then behaves again. */
export class FaultyRepository implements TaskRepository {
  readonly #inner: TaskRepository;
  readonly #faults = new Map<RepositoryOperation, number>();
  /** What the failures throw beside their message, e.g. `{ code: 'SQLITE_CORRUPT' }`. */
  errorFields: Record<string, unknown> = {};

  constructor(inner: TaskRepository) {
    this.#inner = inner;
  }

  get kind() {
    return this.#inner.kind;
  }

  get durable() {
    return this.#inner.durable;
  }

  get location() {
    return this.#inner.location;
  }

  /** The next `times` calls of `operation` throw `store failure: <operation>`. */
  failNext(operation: RepositoryOperation, times = 1): void {
    this.#faults.set(operation, (this.#faults.get(operation) ?? 0) + times);
  }

  open(): OpenedRepository {
    return this.#inner.open();
  }

  atomically<T>(writes: () => T): T {
    return this.#inner.atomically(writes);
  }

  insert(seq: number, task: NewTask): void {
    this.#maybeFail('insert');
    this.#inner.insert(seq, task);
  }

  findByIdempotencyKey(key: string): { id: string; requestHash: string | null } | undefined {
    return this.#inner.findByIdempotencyKey(key);
  }

  start(id: string, startedAt: number): StartedRow | undefined {
    this.#maybeFail('start');
    return this.#inner.start(id, startedAt);
  }

  retry(id: string, attempt: AttemptRecord, runAt: number, order: number): SummaryRow | undefined {
    this.#maybeFail('finish');
    return this.#inner.retry(id, attempt, runAt, order);
  }

  setCallback(id: string, callback: CallbackState): boolean {
    return this.#inner.setCallback(id, callback);
  }

  pendingCallbacks(): { id: string; callback: CallbackState }[] {
    return this.#inner.pendingCallbacks();
  }

  finish(
    id: string,
    outcome: TaskOutcome,
    completedAt: number,
    isLong: boolean,
  ): SummaryRow | undefined {
    this.#maybeFail('finish');
    return this.#inner.finish(id, outcome, completedAt, isLong);
  }

  requeue(id: string, endedAt: number): SummaryRow | undefined {
    this.#maybeFail('requeue');
    return this.#inner.requeue(id, endedAt);
  }

  get(id: string): TaskRow | undefined {
    this.#maybeFail('get');
    return this.#inner.get(id);
  }

  getRequest(id: string): TaskRequest | undefined {
    return this.#inner.getRequest(id);
  }

  list(query: ListQuery): { rows: SummaryRow[]; total: number } {
    this.#maybeFail('list');
    return this.#inner.list(query);
  }

  counts(): RepositoryCounts {
    this.#maybeFail('counts');
    return this.#inner.counts();
  }

  removeFinished(completedBefore: number, limit: number): number {
    this.#maybeFail('removeFinished');
    return this.#inner.removeFinished(completedBefore, limit);
  }

  removeOldestFinished(count: number): number {
    this.#maybeFail('removeFinished');
    return this.#inner.removeOldestFinished(count);
  }

  commit(): void {
    this.#inner.commit();
  }

  checkFiles(): void {
    this.#inner.checkFiles();
  }

  close(): void {
    this.#inner.close();
  }

  #maybeFail(operation: RepositoryOperation): void {
    const left = this.#faults.get(operation) ?? 0;
    if (left === 0) return;
    this.#faults.set(operation, left - 1);
    throw Object.assign(new Error(`store failure: ${operation}`), this.errorFields);
  }
}

/** A processor whose calls the test ends one by one, recording what it saw. */
export class ScriptedProcessor {
  readonly jobs: TaskJob[] = [];
  readonly running = new Map<
    string,
    { job: TaskJob; end: (outcome: TaskOutcome) => void; signal: AbortSignal }
  >();
  maxRunning = 0;
  /** When set, every call ends at once with this outcome. */
  autoOutcome: TaskOutcome | null = null;

  readonly process: TaskProcessor = (job, signal) => {
    this.jobs.push(job);
    if (this.autoOutcome) return Promise.resolve(this.autoOutcome);
    return new Promise<TaskOutcome>((resolve) => {
      const end = (outcome: TaskOutcome) => {
        this.running.delete(job.id);
        resolve(outcome);
      };
      this.running.set(job.id, { job, end, signal });
      this.maxRunning = Math.max(this.maxRunning, this.running.size);
      signal.addEventListener('abort', () => end(interrupted), { once: true });
    });
  };

  /** Ends the call of task `id` (it must be running). */
  complete(id: string, outcome: TaskOutcome = completed('done')): void {
    const call = this.running.get(id);
    if (!call) throw new Error(`task ${id} is not running; running: ${[...this.running.keys()]}`);
    call.end(outcome);
  }

  startedIds(): string[] {
    return this.jobs.map((job) => job.id);
  }
}

export const interrupted: TaskOutcome = {
  status: 'failed',
  result: null,
  error: { code: 'interrupted', message: 'cut off' },
};

export function completed(text: string, statusCode = 200): TaskOutcome {
  return {
    status: statusCode < 300 ? 'completed' : 'failed',
    result: {
      statusCode,
      headers: { 'content-type': 'text/plain' },
      encoding: 'text',
      body: text,
      bodyBytes: Buffer.byteLength(text),
    },
    error: statusCode < 300 ? null : { code: 'upstream_status', message: `status ${statusCode}` },
  };
}

export function binaryResult(bytes: Buffer): TaskOutcome {
  return {
    status: 'completed',
    result: {
      statusCode: 200,
      headers: { 'content-type': 'application/octet-stream' },
      encoding: 'base64',
      body: bytes,
      bodyBytes: bytes.length,
    },
    error: null,
  };
}

let counter = 0;

/** A new task with a recognisable id and a small binary body. */
export function newTask(
  createdAt: number,
  label = `t${++counter}`,
  extra: Partial<Pick<NewTask, 'idempotencyKey' | 'requestHash' | 'retryOf' | 'policy'>> = {},
): NewTask {
  const suffix = String(++counter).padStart(12, '0');
  return {
    id: `00000000-0000-4000-8000-${suffix}`,
    createdAt,
    request: {
      method: 'POST',
      path: `/api/${label}?n=${suffix}`,
      headers: packHeaders(['Content-Type', 'application/octet-stream', 'X-Label', label]),
      body: binaryStringOf([Buffer.from([0, 1, 2, 255, 254, 10, 13])]),
    },
    idempotencyKey: null,
    requestHash: null,
    retryOf: null,
    policy: DEFAULT_POLICY,
    ...extra,
  };
}

/** Admits `count` tasks one after the other and returns their ids in order. */
export async function admitMany(backend: TaskBackend, createdAt: number, count: number) {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const task = newTask(createdAt + i);
    const admitted = await backend.admit(task);
    if (!admitted.ok) throw new Error(`task ${i} was refused: ${admitted.reason}`);
    ids.push(task.id);
  }
  return ids;
}
