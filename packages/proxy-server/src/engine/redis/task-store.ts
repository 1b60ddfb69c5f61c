import type { Redis } from 'ioredis';
import type { TaskStatus } from 'proxy-client/wire';
import type {
  FinishedCalls,
  ListQuery,
  RemovedEvent,
  TaskPage,
  TenantLoad,
  TransitionEvent,
} from '../task-backend.js';
import {
  type AttemptRecord,
  admittedSummary,
  type CallbackState,
  type NewTask,
  type TaskRecord,
  type TaskRequest,
  type TaskSummary,
} from '../task-record.js';
import type { RedisKeys } from './redis-keys.js';
import {
  admitArgs,
  type Finish,
  finishArgs,
  recordFrom,
  requestFrom,
  SUMMARY_FIELDS,
  summaryFrom,
} from './task-codec.js';
import { TASK_SCRIPTS, type TaskScriptName } from './task-scripts.js';

export type AdmitReply =
  /**
   * `shed`: the task that failed to make room for this one (its job is still queued);
   * `jobPriority`: its BullMQ job's.
   */
  | ({
      kind: 'admitted';
      event: TransitionEvent;
      shed: string | null;
      jobPriority: number;
    } & Released)
  /**
   * `jobPriority`: the task waits with no job in BullMQ's queue (its admitting instance died
   * between the two writes), to be added with this priority; null when it needs none.
   */
  | { kind: 'existing'; taskId: string; jobPriority: number | null }
  | { kind: 'conflict'; taskId: string }
  /** `tenant_full`: the task's tenant holds `tenantMaxQueued` tasks queued (`queued`). */
  | { kind: 'full' | 'tasks_full' | 'tenant_full'; queued: number };

/** What an admission may take: room in the queue, in the store, and in the tenant's share. */
export interface AdmitRoom {
  maxQueueSize: number;
  slots: number;
  maxTasks: number | null;
  tenantMaxQueued: number | null;
  shedError: string;
}

export type StartReply =
  /** `event` is null when this was the same worker's start again (its answer had been lost). */
  | {
      kind: 'started';
      task: TaskSummary;
      event: TransitionEvent | null;
      /** A dead worker's call run again: its `requeued` event, which comes before `event`. */
      requeued: TransitionEvent | null;
      request: TaskRequest;
      /** The task's own call timeout; null for the server's. */
      timeoutMs: number | null;
    }
  /** Left processing by a worker that died, and failed `interrupted` now. */
  | { kind: 'interrupted'; event: TransitionEvent; released: string[] }
  /** Still pending past its deadline: ended `expired` instead. */
  | { kind: 'expired'; event: TransitionEvent; released: string[] }
  /**
   * No such task, another worker holds the job, or the task finished (cancelled) already;
   * `capped`: its tenant has tenantMaxInFlight calls in flight, and it waits (`park`).
   */
  | { kind: 'gone' | 'lost' | 'finished' | 'capped' };

/**
 * How a task set aside stands once its job is delayed: waiting (`parked`), to be promoted now
 * (`free`), started meanwhile by another worker after a release (`started`), or ended (`gone`).
 */
export type ParkReply = 'parked' | 'free' | 'started' | 'gone';

/**
 * `released`, in the replies of what ends a call: tasks set aside for their tenant's cap on
 * calls (`park`) whose turn came as the call ended; their jobs are to be promoted.
 */
type Released = { released: string[] };

export type FinishReply =
  | ({ kind: 'ok'; event: TransitionEvent; previous: TaskStatus } & Released)
  /**
   * `gone`: no such task (Redis lost its data); `stale`: another attempt of it was started
   * since (its job handed out again); `finished`: it ended meanwhile (a cancel);
   * `interrupted`: another instance ended it `interrupted` meanwhile, as a dead instance's call
   * (its lease ran out while this one could not reach Redis).
   */
  | { kind: 'gone' | 'finished' | 'stale' | 'interrupted' };

/** As a finish's; `retrying` when the task waits for its next attempt. */
export type RetryReply =
  | ({ kind: 'retrying'; event: TransitionEvent } & Released)
  | { kind: 'gone' | 'finished' | 'stale' | 'interrupted' };

/**
 * Whose finish counts: one attempt's (a call's outcome), or any (a cancel, also while pending;
 * a call in flight that started before `longStartedBefore` ends long).
 */
export type FinishGuard = { attempt: number } | { allowPending: true; longStartedBefore: number };

export interface StoreCounts {
  pending: number;
  processing: number;
  completed: number;
  failed: number;
  cancelled: number;
  expired: number;
  total: number;
  /** Of `pending`, the tasks waiting for their next attempt. */
  retrying: number;
  longFinished: number;
  longRunning: number;
  /** Finished tasks whose callback is still to be delivered. */
  callbacksPending: number;
  /** When each call in flight started, the earliest first. */
  inFlightStartedAt: number[];
  /** Each tenant with tasks queued or calls in flight (fair sharing), in no order. */
  tenants: TenantLoad[];
}

/** A failed call to be tried again: its outcome and when the next attempt is due. */
export interface Retry {
  attempt: number;
  finish: Finish;
  nextAttemptAt: number;
  record: AttemptRecord;
}

export interface WakeReply {
  /** Queued tasks that ended `expired` now (their jobs are still queued). */
  expired: string[];
  /** Tasks whose next attempt is due, and their jobs' priority: their jobs are to be added. */
  due: { id: string; priority: number }[];
  /** When something is due next; null when nothing is waiting. */
  nextDue: number | null;
  /** Tasks set aside for their tenant's cap on calls, released now: their jobs to promote. */
  released: string[];
}

/** How a start treats a task a dead worker left processing (errors as JSON). */
export interface LeftBehind {
  maxRequeues: number;
  interrupted: string;
  pastMaxRequeues: string;
  expired: string;
}

/** `stale`: that call no longer runs; `spent`: cut off `maxRequeues` times before, left as is. */
export type RequeueReply =
  /**
   * `jobPriority`: the job's new priority (its turn came before the level's turns started
   * again), null when it keeps its own.
   */
  | ({ kind: 'ok'; event: TransitionEvent; jobPriority: number | null } & Released)
  | { kind: 'stale' | 'spent' };

export interface RecoverReply {
  /** Pending tasks found, before any went back in line. */
  pending: number;
  total: number;
  /** Calls of dead workers put back in line, in line order. */
  requeued: string[];
  /** Calls of dead workers failed `interrupted`. */
  interrupted: string[];
  /** Of those, the tasks cut off after going back in line `maxRequeues` times. */
  pastMaxRequeues: string[];
  /** Tasks back in line earlier whose BullMQ job is missing. */
  readd: string[];
  /** Tasks set aside for their tenant's cap on calls whose turn came: jobs to promote. */
  released: string[];
}

/**
 * The task records in Redis, each operation one atomic script (task-scripts.ts). Events a call
 * appended to the stream come back with its reply, so the caller can tell its own listeners at
 * once. Every method rejects when Redis cannot be reached (the backend turns that into
 * `StoreUnavailableError`).
 */
export interface RedisTaskStore {
  admit(task: NewTask, room: AdmitRoom): Promise<AdmitReply>;
  /** Takes back an admission whose job is not in BullMQ's queue; the event when it did. */
  discard(id: string): Promise<RemovedEvent | undefined>;
  /**
   * A task a dead worker left processing runs again while it was cut off fewer than
   * `maxRequeues` times before; else it fails with the `interrupted` error (JSON), or with
   * `pastMaxRequeues` when `maxRequeues` is above 0.
   */
  start(
    id: string,
    startedAt: number,
    token: string,
    leftBehind: LeftBehind,
    tenantMaxInFlight: number | null,
  ): Promise<StartReply>;
  /**
   * Looks again at a task whose start was `capped` (and set it aside), its job delayed now:
   * `free` when it was released or a place came free meanwhile.
   */
  park(id: string, tenantMaxInFlight: number): Promise<ParkReply>;
  finish(id: string, finish: Finish, guard: FinishGuard): Promise<FinishReply>;
  /** processing → pending until `nextAttemptAt`, if that attempt of the task still runs. */
  retry(id: string, retry: Retry): Promise<RetryReply>;
  /**
   * Ends queued tasks past their deadline and hands out the retries due at `now`; releases tasks
   * set aside for their tenant's cap on calls (null: none) whose tenant has room.
   */
  wake(now: number, expired: string, tenantMaxInFlight: number | null): Promise<WakeReply>;
  /** False when there is no such task. */
  setCallback(id: string, callback: CallbackState): Promise<boolean>;
  pendingCallbacks(): Promise<{ id: string; callback: CallbackState }[]>;
  /**
   * processing → pending for a call cut off at `endedAt`, kept in the task's history, unless the
   * task was cut off `maxRequeues` times before (null: no cap).
   */
  requeue(
    id: string,
    attempt: number,
    endedAt: number,
    maxRequeues: number | null,
  ): Promise<RequeueReply>;
  get(id: string): Promise<TaskRecord | undefined>;
  getRequest(id: string): Promise<TaskRequest | undefined>;
  list(query: ListQuery): Promise<TaskPage>;
  counts(longStartedBefore: number): Promise<StoreCounts>;
  removeFinished(completedBefore: number, limit: number): Promise<RemovedEvent | undefined>;
  recover(options: {
    maxRequeues: number;
    completedAt: number;
    interrupted: string;
    pastMaxRequeues: string;
    orphanAgeS: number;
  }): Promise<RecoverReply>;
  /** The calls of the last `limit` finished tasks (none cut off): their mean; null for none. */
  finishedCalls(limit: number): Promise<FinishedCalls | null>;
}

/**
 * How long a retry handed to an instance by the wake script, or a task its start-up recovery put
 * back in line, may go without its job before another instance's wake hands it out again (its
 * instance died before adding the job). An instance paused past it may still add its job after
 * the other's attempt ran: START drops a job for a task that waits for a retry, so the task never
 * runs early.
 */
export const HANDOFF_LEASE_MS = 10_000;

type ScriptArg = string | Buffer | number;
type ScriptCall = (...args: ScriptArg[]) => Promise<unknown>;

/** `RedisTaskStore` on one connection, its scripts defined there with `defineCommand`. */
export class LuaTaskStore implements RedisTaskStore {
  readonly #client: Redis;
  readonly #common: string[];
  readonly #keys: RedisKeys;

  constructor(client: Redis, keys: RedisKeys, origin: string, eventWindow: number) {
    this.#client = client;
    this.#keys = keys;
    this.#common = [keys.prefix, String(eventWindow), origin];
    for (const [name, lua] of Object.entries(TASK_SCRIPTS)) {
      // Named apart from Redis's commands (a script named `get` would replace GET) and BullMQ's.
      client.defineCommand(commandName(name as TaskScriptName), { numberOfKeys: 0, lua });
    }
  }

  async admit(newTask: NewTask, room: AdmitRoom): Promise<AdmitReply> {
    const reply = strings(
      await this.#run('admit', [
        ...admitArgs(newTask),
        room.maxQueueSize,
        room.slots,
        room.maxTasks === null ? '' : String(room.maxTasks),
        room.shedError,
        this.#keys.job(''),
        room.tenantMaxQueued === null ? '' : String(room.tenantMaxQueued),
      ]),
    );
    const [kind, value = '', position = '', shed = '', jobPriority = '', ...released] = reply;
    if (kind === 'existing') {
      return { kind, taskId: value, jobPriority: position === '' ? null : Number(position) };
    }
    if (kind === 'conflict') return { kind, taskId: value };
    if (kind === 'full' || kind === 'tasks_full' || kind === 'tenant_full') {
      return { kind, queued: Number(value) };
    }
    const task = admittedSummary(newTask, Number(position));
    return {
      kind: 'admitted',
      event: { id: value, type: 'created', task, local: true },
      shed: shed === '' ? null : shed,
      jobPriority: Number(jobPriority),
      released,
    };
  }

  async discard(id: string): Promise<RemovedEvent | undefined> {
    const eventId = String(await this.#run('discard', [id, this.#keys.job(id)]));
    return eventId === '' ? undefined : { id: eventId, type: 'removed', count: 1, local: true };
  }

  async start(
    id: string,
    startedAt: number,
    token: string,
    leftBehind: LeftBehind,
    tenantMaxInFlight: number | null,
  ): Promise<StartReply> {
    const reply = buffers(
      await this.#runBuffer('start', [
        id,
        String(startedAt),
        this.#keys.jobLock(id),
        token,
        String(leftBehind.maxRequeues),
        leftBehind.interrupted,
        leftBehind.expired,
        leftBehind.pastMaxRequeues,
        tenantMaxInFlight === null ? '' : String(tenantMaxInFlight),
      ]),
    );
    const kind = reply[0]?.toString('utf8');
    if (kind === 'gone' || kind === 'lost' || kind === 'finished' || kind === 'capped') {
      return { kind };
    }
    const after = 3 + SUMMARY_FIELDS.length;
    const started = kind !== 'interrupted' && kind !== 'expired';
    // A start's request headers and body stay bytes: decoding a large body here would be wasted.
    const text = reply.map((value, index) =>
      started && (index === after || index === after + 1) ? '' : (value?.toString('utf8') ?? ''),
    );
    if (!started) {
      return { kind, event: this.#event('finished', text), released: releasedIn(text, 0) };
    }
    const event = this.#event('started', text);
    const request = requestFrom(
      event.task.method,
      event.task.path,
      reply[after] ?? Buffer.alloc(0),
      reply[after + 1] ?? null,
    );
    const timeout = text[after + 2] ?? '';
    const requeued = text.slice(after + 3);
    return {
      kind: 'started',
      task: event.task,
      event: event.id === '' ? null : event,
      requeued: requeued.length === 0 ? null : this.#event('requeued', requeued),
      request,
      timeoutMs: timeout === '' ? null : Number(timeout),
    };
  }

  async finish(id: string, finish: Finish, guard: FinishGuard): Promise<FinishReply> {
    const reply = strings(
      await this.#run('finish', [
        id,
        ...finishArgs(finish),
        'attempt' in guard ? String(guard.attempt) : '',
        'allowPending' in guard ? '1' : '0',
        'allowPending' in guard ? String(guard.longStartedBefore) : '',
      ]),
    );
    const [kind] = reply;
    if (kind === 'gone' || kind === 'finished' || kind === 'stale' || kind === 'interrupted') {
      return { kind };
    }
    const previous = reply[3 + SUMMARY_FIELDS.length] as TaskStatus;
    return {
      kind: 'ok',
      event: this.#event('finished', reply),
      previous,
      released: releasedIn(reply, 1),
    };
  }

  async park(id: string, tenantMaxInFlight: number): Promise<ParkReply> {
    const reply = String(await this.#run('park', [id, String(tenantMaxInFlight)]));
    return reply === 'parked' || reply === 'free' || reply === 'started' ? reply : 'gone';
  }

  async retry(id: string, retry: Retry): Promise<RetryReply> {
    const [status, completedAt, isLong, error, meta] = finishArgs(retry.finish);
    const reply = strings(
      await this.#run('retry', [
        id,
        String(retry.attempt),
        status as string,
        completedAt as string,
        isLong as string,
        error as string,
        meta as string,
        String(retry.nextAttemptAt),
        JSON.stringify(retry.record),
      ]),
    );
    const [kind] = reply;
    if (kind === 'gone' || kind === 'finished' || kind === 'stale' || kind === 'interrupted') {
      return { kind };
    }
    return {
      kind: 'retrying',
      event: this.#event('retrying', reply),
      released: releasedIn(reply, 0),
    };
  }

  async wake(now: number, expired: string, tenantMaxInFlight: number | null): Promise<WakeReply> {
    const [ids, due, nextDue, released] = (await this.#run('wake', [
      String(now),
      expired,
      `${this.#keys.job('')}`,
      String(HANDOFF_LEASE_MS),
      tenantMaxInFlight === null ? '' : String(tenantMaxInFlight),
    ])) as [string[], string[], string | null, string[]];
    const pairs: { id: string; priority: number }[] = [];
    for (let at = 0; at + 1 < due.length; at += 2) {
      pairs.push({ id: due[at] as string, priority: Number(due[at + 1]) });
    }
    return {
      expired: ids,
      due: pairs,
      nextDue: nextDue === null || nextDue === '' ? null : Number(nextDue),
      released,
    };
  }

  async setCallback(id: string, callback: CallbackState): Promise<boolean> {
    const pending = callback.state === 'pending' ? '1' : '0';
    return (await this.#run('setCallback', [id, JSON.stringify(callback), pending])) === 1;
  }

  async pendingCallbacks(): Promise<{ id: string; callback: CallbackState }[]> {
    const flat = strings(await this.#run('pendingCallbacks', []));
    const out: { id: string; callback: CallbackState }[] = [];
    for (let at = 0; at + 1 < flat.length; at += 2) {
      // The JSON setCallback wrote, of the type it wrote.
      out.push({ id: flat[at] as string, callback: JSON.parse(flat[at + 1] as string) });
    }
    return out;
  }

  async requeue(
    id: string,
    attempt: number,
    endedAt: number,
    maxRequeues: number | null,
  ): Promise<RequeueReply> {
    const reply = strings(
      await this.#run('requeue', [id, String(attempt), String(endedAt), String(maxRequeues ?? '')]),
    );
    if (reply[0] === 'ok') {
      const priority = reply[3 + SUMMARY_FIELDS.length] ?? '';
      return {
        kind: 'ok',
        event: this.#event('requeued', reply),
        jobPriority: priority === '' ? null : Number(priority),
        released: releasedIn(reply, 1),
      };
    }
    return { kind: reply[0] === 'spent' ? 'spent' : 'stale' };
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    const reply = await this.#runBuffer('get', [id]);
    if (!Array.isArray(reply) || reply.length < 2) return undefined;
    const [position, flat] = reply as [Buffer, Buffer[]];
    const hash = new Map<string, Buffer>();
    for (let i = 0; i + 1 < flat.length; i += 2) {
      hash.set((flat[i] as Buffer).toString('utf8'), flat[i + 1] as Buffer);
    }
    return recordFrom(position.toString('utf8'), hash);
  }

  async getRequest(id: string): Promise<TaskRequest | undefined> {
    const reply = buffers(await this.#runBuffer('getRequest', [id]));
    if (reply.length < 4) return undefined;
    const [method, path, headers, body] = reply;
    const text = (bytes: Buffer | null | undefined) => bytes?.toString('utf8') ?? '';
    return requestFrom(text(method), text(path), headers ?? Buffer.alloc(0), body ?? null);
  }

  async list(query: ListQuery): Promise<TaskPage> {
    const reply = await this.#run('list', [query.status ?? '', query.offset, query.limit]);
    const [total, ...rest] = reply as [number, ...(string | null)[]];
    const values = rest.map((value) => value ?? '');
    const width = 1 + SUMMARY_FIELDS.length;
    const tasks = [];
    for (let at = 0; at + width <= values.length; at += width) {
      tasks.push(summaryFrom(values[at] as string, values.slice(at + 1, at + width)));
    }
    return { tasks, total };
  }

  async counts(longStartedBefore: number): Promise<StoreCounts> {
    const reply = (await this.#run('counts', [String(longStartedBefore)])) as (number | string)[];
    const [pending, processing, completed, failed, cancelled, expired, total, retrying] =
      reply.map(Number);
    const started = reply.slice(12);
    return {
      pending: pending ?? 0,
      processing: processing ?? 0,
      completed: completed ?? 0,
      failed: failed ?? 0,
      cancelled: cancelled ?? 0,
      expired: expired ?? 0,
      total: total ?? 0,
      retrying: retrying ?? 0,
      longFinished: Number(reply[8] ?? 0),
      longRunning: Number(reply[9] ?? 0),
      callbacksPending: Number(reply[10] ?? 0),
      // Every other value is a score: ZRANGE … WITHSCORES.
      inFlightStartedAt: started.filter((_, at) => at % 2 === 1).map(Number),
      tenants: tenantLoads(reply[11] as unknown as (string | number)[]),
    };
  }

  async removeFinished(completedBefore: number, limit: number): Promise<RemovedEvent | undefined> {
    const [count, eventId] = (await this.#run('removeFinished', [
      String(completedBefore),
      limit,
    ])) as [number, string];
    return count === 0 ? undefined : { id: eventId, type: 'removed', count, local: true };
  }

  async finishedCalls(limit: number): Promise<FinishedCalls | null> {
    const [total, calls] = ((await this.#run('finishedCalls', [limit])) as [string, number]).map(
      Number,
    ) as [number, number];
    return calls === 0 ? null : { meanMs: total / calls, calls };
  }

  async recover(options: {
    maxRequeues: number;
    completedAt: number;
    interrupted: string;
    pastMaxRequeues: string;
    orphanAgeS: number;
  }): Promise<RecoverReply> {
    const reply = (await this.#run('recover', [
      String(options.maxRequeues),
      String(options.completedAt),
      options.interrupted,
      options.orphanAgeS,
      options.pastMaxRequeues,
      String(HANDOFF_LEASE_MS),
    ])) as [number, number, string[], string[], string[], string[], string[]];
    const [pending, total, requeued, interrupted, readd, pastMaxRequeues, released] = reply;
    return { pending, total, requeued, interrupted, readd, pastMaxRequeues, released };
  }

  /** The transition a script appended, from its reply {status, event id, position, summary...}. */
  #event(type: TransitionEvent['type'], reply: readonly string[]): TransitionEvent {
    const [, id = '', position = ''] = reply;
    const summary = reply.slice(3, 3 + SUMMARY_FIELDS.length);
    return { id, type, task: summaryFrom(position, summary), local: true };
  }

  #run(name: TaskScriptName, args: ScriptArg[]): Promise<unknown> {
    return this.#script(commandName(name))(...this.#common, ...args);
  }

  /** The same, with every string of the reply as the bytes Redis holds. */
  #runBuffer(name: TaskScriptName, args: ScriptArg[]): Promise<unknown> {
    return this.#script(`${commandName(name)}Buffer`)(...this.#common, ...args);
  }

  #script(name: string): ScriptCall {
    // defineCommand adds the method at run time, which ioredis's types cannot know.
    const call = (this.#client as unknown as Record<string, ScriptCall | undefined>)[name];
    if (call === undefined) throw new Error(`the Redis script ${name} is not defined`);
    return call.bind(this.#client);
  }
}

const commandName = (name: TaskScriptName): string => `proxyTask_${name}`;

function strings(reply: unknown): string[] {
  if (!Array.isArray(reply)) throw new Error(`unexpected script reply: ${String(reply)}`);
  return reply.map((value) => (value === null ? '' : String(value)));
}

function buffers(reply: unknown): (Buffer | null)[] {
  if (!Array.isArray(reply)) throw new Error(`unexpected script reply: ${String(reply)}`);
  return reply.map((value) =>
    value === null ? null : Buffer.isBuffer(value) ? value : Buffer.from(String(value)),
  );
}

/**
 * The ids a script appended to its reply after a transition's fields (its status, event id,
 * position and summary) and `extra` more values.
 */
function releasedIn(reply: readonly string[], extra: number): string[] {
  return reply.slice(3 + SUMMARY_FIELDS.length + extra);
}

/** The counts script's tenants (`=name`, queued, calls in flight, flat) as loads. */
function tenantLoads(flat: readonly (string | number)[]): TenantLoad[] {
  const loads: TenantLoad[] = [];
  for (let at = 0; at + 2 < flat.length; at += 3) {
    loads.push({
      // '=' and the name (task-codec.ts): the name may be empty.
      tenant: String(flat[at]).slice(1),
      queued: Number(flat[at + 1]),
      inFlight: Number(flat[at + 2]),
    });
  }
  return loads;
}
