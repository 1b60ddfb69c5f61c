import { isTerminalStatus } from 'proxy-client/wire';
import type { TaskRecord } from '../task-record.js';

type Waiter = (task: TaskRecord | undefined) => void;

/**
 * The waiting reads of one instance. A task's finish may come from any instance, through the
 * event stream, and a task may be gone (removed) by the time it is read, so unlike the local
 * backend's waiters these are told by task id and read the task themselves (`read`), once per
 * finish however many wait for it; and they can all be read again after the stream was away.
 */
export class FinishWatch {
  readonly #byTask = new Map<string, Set<Waiter>>();
  readonly #read: (id: string) => Promise<TaskRecord | undefined>;
  readonly #onReadError: (error: unknown, id: string) => void;

  constructor(
    read: (id: string) => Promise<TaskRecord | undefined>,
    onReadError: (error: unknown, id: string) => void,
  ) {
    this.#read = read;
    this.#onReadError = onReadError;
  }

  /** Waiters of all tasks together; tests check it falls back to 0. */
  get size(): number {
    let size = 0;
    for (const waiters of this.#byTask.values()) size += waiters.size;
    return size;
  }

  /**
   * Resolves with the task once it is finished (at once if it already is), undefined when there
   * is no such task; rejects with `signal.reason` when the signal aborts first, or when the first
   * read fails. Subscribes before it reads, so a finish in between is not missed.
   */
  wait(id: string, signal: AbortSignal): Promise<TaskRecord | undefined> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      let settled = false;
      const waiter: Waiter = (task) => settle(() => resolve(task));
      const onAbort = () => settle(() => reject(signal.reason));
      const settle = (answer: () => void) => {
        if (settled) return;
        settled = true;
        this.#remove(id, waiter);
        signal.removeEventListener('abort', onAbort);
        answer();
      };
      let waiters = this.#byTask.get(id);
      if (!waiters) {
        waiters = new Set();
        this.#byTask.set(id, waiters);
      }
      waiters.add(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#read(id).then(
        (task) => {
          if (!task || isTerminalStatus(task.status)) waiter(task);
        },
        (error: unknown) => settle(() => reject(error)),
      );
    });
  }

  /** Task `id` finished: whoever waits for it hears it, after one read. */
  finished(id: string): void {
    if (!this.#byTask.has(id)) return;
    this.#read(id).then(
      (task) => {
        if (task && !isTerminalStatus(task.status)) return;
        for (const waiter of this.#byTask.get(id) ?? []) waiter(task);
      },
      // Still waiting: read again when the stream comes back (`recheck`).
      (error: unknown) => this.#onReadError(error, id),
    );
  }

  /** Reads every task waited for afresh: finishes may have been missed meanwhile. */
  recheck(): void {
    for (const id of this.#byTask.keys()) this.finished(id);
  }

  #remove(id: string, waiter: Waiter): void {
    const waiters = this.#byTask.get(id);
    if (!waiters?.delete(waiter)) return;
    if (waiters.size === 0) this.#byTask.delete(id);
  }
}
