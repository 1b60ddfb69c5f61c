/**
 * The names under one `--redis-prefix`. BullMQ keeps its queue under `<prefix>:tasks:*` (a job
 * per task, its id the task's id); the proxy's own keys sit beside it under other names, so the
 * two never collide:
 *
 * | key | type | holds |
 * | --- | --- | --- |
 * | `<prefix>:task:<id>` | hash | one task: its fields, request and result (see task-codec.ts) |
 * | `<prefix>:idem:<key>` | string | the task holding an idempotency key |
 * | `<prefix>:q:all` | zset | every task, by admission sequence |
 * | `<prefix>:q:<status>` | zset | the tasks in a status, by when they entered it (pending: by admission) |
 * | `<prefix>:q:started` | zset | processing tasks by start time (the long and oldest calls) |
 * | `<prefix>:q:finished` | zset | finished tasks by completion time (retention) |
 * | `<prefix>:q:deadline` | zset | pending tasks never started, by deadline |
 * | `<prefix>:q:retry` | zset | tasks waiting for a retry, by when it is due |
 * | `<prefix>:q:handed` | zset | tasks whose job an instance is to add (due retries, tasks recovered), by when that hand-out lapses |
 * | `<prefix>:callbacks` | set | finished tasks whose callback is still to be delivered (resumed at a start; counted for `/stats`) |
 * | `<prefix>:meta` | hash | counters: `seq` (admission), `order` (transitions), `long`; the tenant caps of the instance opened last |
 * | `<prefix>:tenants:queued`, `…:calls` | zset | fair sharing: each tenant (`=<name>`) by its tasks queued, by its calls in flight |
 * | `<prefix>:turns:<level>` | hash | fair sharing: the level's turn now (`now`) and the last of each tenant with tasks queued (`=<name>`) |
 * | `<prefix>:parked:<tenant>` | zset | tasks waiting for a call of their tenant to end (`--tenant-max-in-flight`), by score in line |
 * | `<prefix>:events` | stream | every transition, trimmed to the event window |
 */
export class RedisKeys {
  /** BullMQ's `prefix` option. */
  readonly bullPrefix: string;
  /** BullMQ's queue name; the queue's keys are `<prefix>:tasks:*`. */
  readonly queueName = 'tasks';
  readonly events: string;

  constructor(readonly prefix: string) {
    this.bullPrefix = prefix;
    this.events = `${prefix}:events`;
  }

  /** BullMQ's hash for the job that runs task `id`. */
  job(id: string): string {
    return `${this.prefix}:${this.queueName}:${id}`;
  }

  /** BullMQ's lock on that job, held by the worker running it. */
  jobLock(id: string): string {
    return `${this.job(id)}:lock`;
  }
}
