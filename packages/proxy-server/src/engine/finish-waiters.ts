import type { TaskRecord } from './task-record.js';

type Waiter = (task: TaskRecord) => void;

/** Who waits for which task to finish, so waiting reads never poll. */
export class FinishWaiters {
  readonly #byTask = new Map<string, Set<Waiter>>();

  /** Waiters of all tasks together; tests check it falls back to 0. */
  get size(): number {
    let size = 0;
    for (const waiters of this.#byTask.values()) size += waiters.size;
    return size;
  }

  has(id: string): boolean {
    return this.#byTask.has(id);
  }

  /** Calls `waiter` once when the task finishes; returns the function that stops waiting. */
  add(id: string, waiter: Waiter): () => void {
    let waiters = this.#byTask.get(id);
    if (!waiters) {
      waiters = new Set();
      this.#byTask.set(id, waiters);
    }
    waiters.add(waiter);
    return () => {
      const current = this.#byTask.get(id);
      if (!current?.delete(waiter)) return;
      if (current.size === 0) this.#byTask.delete(id);
    };
  }

  /** The task finished: every waiter hears it once and is forgotten. */
  finished(task: TaskRecord): void {
    const waiters = this.#byTask.get(task.id);
    if (!waiters) return;
    this.#byTask.delete(task.id);
    for (const waiter of waiters) waiter(task);
  }
}

/**
 * The shared half of `TaskBackend.waitForFinish`: `read` must give the task's state now, and
 * `waiters` must hear its finish from then on, with nothing in between (a synchronous read, or
 * one made after subscribing).
 */
export function waitForFinish(
  waiters: FinishWaiters,
  id: string,
  signal: AbortSignal,
  read: () => TaskRecord | undefined,
  isFinished: (task: TaskRecord) => boolean,
): Promise<TaskRecord | undefined> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const now = read();
    if (!now || isFinished(now)) {
      resolve(now);
      return;
    }
    const onAbort = () => {
      stop();
      reject(signal.reason);
    };
    const stop = waiters.add(id, (task) => {
      signal.removeEventListener('abort', onAbort);
      resolve(task);
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
