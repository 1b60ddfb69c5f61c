import type { TaskError, TaskStatus } from 'proxy-client/wire';
import { FinishListeners } from './finish-listeners.js';
import type { BinaryString, PackedHeaders } from './stored-request.js';
import { TaskList } from './task-list.js';
import type {
  FinishListener,
  ListQuery,
  NewTask,
  StoreCounts,
  StoredResult,
  StoredTask,
  TaskOutcome,
  TaskPage,
  TaskRequest,
  TaskStore,
} from './task-store.js';

/** Every write answers with this one settled promise: nothing to wait for, nothing allocated. */
const DONE: Promise<void> = Promise.resolve();

/** A task as the in-memory store keeps it: fixed fields (one hidden class) plus its list links. */
class MemoryTask implements StoredTask {
  status: TaskStatus = 'pending';
  startedAt: number | null = null;
  completedAt: number | null = null;
  isLong = false;
  attempts = 0;
  result: StoredResult | null = null;
  error: TaskError | null = null;
  newerInAll: MemoryTask | null = null;
  olderInAll: MemoryTask | null = null;
  newerInStatus: MemoryTask | null = null;
  olderInStatus: MemoryTask | null = null;

  constructor(
    readonly id: string,
    readonly method: string,
    readonly path: string,
    readonly createdAt: number,
    readonly queueSeq: number,
    /** The request, until handed to the forwarding lane; null afterwards. */
    public headers: PackedHeaders | null,
    public body: BinaryString | null,
  ) {}
}

/**
 * Tasks in a Map for lookup by id, threaded on an all-tasks list and one list per status, so
 * counts are list sizes, pages walk only what they return, and finished tasks sit in completion
 * order for retention sweeps that start at the oldest.
 */
export class MemoryTaskStore implements TaskStore {
  readonly #tasks = new Map<string, MemoryTask>();
  readonly #all = new TaskList<MemoryTask>('all');
  readonly #byStatus: Record<TaskStatus, TaskList<MemoryTask>> = {
    pending: new TaskList('status'),
    processing: new TaskList('status'),
    completed: new TaskList('status'),
    failed: new TaskList('status'),
  };
  readonly #listeners = new FinishListeners();
  #long = 0;

  create(task: NewTask): Promise<void> {
    const record = new MemoryTask(
      task.id,
      task.method,
      task.path,
      task.createdAt,
      task.queueSeq,
      task.headers,
      task.body,
    );
    this.#tasks.set(record.id, record);
    this.#all.addNewest(record);
    this.#byStatus.pending.addNewest(record);
    return DONE;
  }

  async get(id: string): Promise<StoredTask | undefined> {
    return this.#tasks.get(id);
  }

  async takeRequest(id: string): Promise<TaskRequest | undefined> {
    const task = this.#tasks.get(id);
    if (task?.status !== 'pending' || task.headers === null) return undefined;
    const request = {
      method: task.method,
      path: task.path,
      headers: task.headers,
      body: task.body,
    };
    task.headers = null;
    task.body = null;
    return request;
  }

  async claim(id: string, startedAt: number): Promise<boolean> {
    const task = this.#tasks.get(id);
    if (task?.status !== 'pending') return false;
    this.#move(task, 'processing');
    task.startedAt = startedAt;
    task.attempts++;
    return true;
  }

  markLong(id: string): Promise<void> {
    const task = this.#tasks.get(id);
    if (!task || task.isLong) return DONE;
    task.isLong = true;
    this.#long++;
    return DONE;
  }

  finish(id: string, outcome: TaskOutcome, completedAt: number): Promise<void> {
    const task = this.#tasks.get(id);
    if (!task || (task.status !== 'pending' && task.status !== 'processing')) return DONE;
    this.#move(task, outcome.status);
    task.headers = null;
    task.body = null;
    task.completedAt = completedAt;
    task.result = outcome.result;
    task.error = outcome.error;
    this.#listeners.emit(task);
    return DONE;
  }

  async list(query: ListQuery): Promise<TaskPage> {
    const list = query.status ? this.#byStatus[query.status] : this.#all;
    return { tasks: list.page(query.offset, query.limit), total: list.size };
  }

  async removeFinishedBefore(cutoffMs: number): Promise<number> {
    let removed = 0;
    for (const list of [this.#byStatus.completed, this.#byStatus.failed]) {
      for (
        let task = list.oldest;
        task && (task.completedAt ?? 0) <= cutoffMs;
        task = list.oldest
      ) {
        list.remove(task);
        this.#all.remove(task);
        this.#tasks.delete(task.id);
        if (task.isLong) this.#long--;
        removed++;
      }
    }
    return removed;
  }

  async counts(): Promise<StoreCounts> {
    return {
      pending: this.#byStatus.pending.size,
      processing: this.#byStatus.processing.size,
      completed: this.#byStatus.completed.size,
      failed: this.#byStatus.failed.size,
      total: this.#all.size,
      long: this.#long,
    };
  }

  onFinished(id: string, listener: FinishListener): () => void {
    return this.#listeners.add(id, listener);
  }

  #move(task: MemoryTask, status: TaskStatus): void {
    this.#byStatus[task.status].remove(task);
    task.status = status;
    this.#byStatus[status].addNewest(task);
  }
}
