import type { FinishListener, StoredTask } from './task-store.js';

/** Per-task listeners for the finishing transition, so waiting reads never poll. */
export class FinishListeners {
  readonly #byTask = new Map<string, Set<FinishListener>>();

  add(id: string, listener: FinishListener): () => void {
    let listeners = this.#byTask.get(id);
    if (!listeners) {
      listeners = new Set();
      this.#byTask.set(id, listeners);
    }
    listeners.add(listener);
    return () => {
      const current = this.#byTask.get(id);
      if (!current?.delete(listener)) return;
      if (current.size === 0) this.#byTask.delete(id);
    };
  }

  emit(task: StoredTask): void {
    const listeners = this.#byTask.get(task.id);
    if (!listeners) return;
    this.#byTask.delete(task.id);
    for (const listener of listeners) listener(task);
  }
}
