import type { TaskBackend, TaskEvent, TransitionEvent } from '../engine/task-backend.js';

type Listener = (event: TransitionEvent) => void;

/**
 * One subscription to the backend, fanned out to every event stream of this process: streams
 * about one task hear only that task's events (a lookup, not a scan over every stream), streams
 * about all tasks hear all of them. Ten thousand open streams then cost one map lookup per event.
 * It is subscribed only while a stream is open: the backend keeps events for resuming streams
 * only while one listens.
 */
export class TaskEventHub {
  readonly #byTask = new Map<string, Set<Listener>>();
  /** Each stream about all tasks, with what it does when the backend lost events. */
  readonly #all = new Map<Listener, () => void>();
  readonly #backend: TaskBackend;
  readonly #onError: (error: unknown) => void;
  #subscription: { close(): void } | null = null;
  #closed = false;
  #size = 0;

  constructor(backend: TaskBackend, onError: (error: unknown) => void) {
    this.#backend = backend;
    this.#onError = onError;
  }

  /** Streams listening now; back to 0 once every client has gone. */
  get size(): number {
    return this.#size;
  }

  /** Hears the transitions of one task; returns the function that stops it. */
  watchTask(id: string, listener: Listener): () => void {
    let listeners = this.#byTask.get(id);
    if (!listeners) {
      listeners = new Set();
      this.#byTask.set(id, listeners);
    }
    listeners.add(listener);
    this.#added();
    return once(() => {
      const current = this.#byTask.get(id);
      if (!current?.delete(listener)) return;
      if (current.size === 0) this.#byTask.delete(id);
      this.#removed();
    });
  }

  /**
   * Hears every task's transitions, and `onMissed` when the backend lost some (see
   * `SubscribeOptions.onMissed`); returns the function that stops it.
   */
  watchAll(listener: Listener, onMissed: () => void): () => void {
    this.#all.set(listener, onMissed);
    this.#added();
    return once(() => {
      if (this.#all.delete(listener)) this.#removed();
    });
  }

  close(): void {
    this.#closed = true;
    this.#subscription?.close();
    this.#subscription = null;
  }

  #added(): void {
    this.#size++;
    if (this.#subscription !== null || this.#closed) return;
    this.#subscription = this.#backend.subscribe(
      (event) => {
        try {
          this.#dispatch(event);
        } catch (error) {
          this.#onError(error);
        }
      },
      {
        resumable: true,
        onMissed: () => {
          for (const onMissed of this.#all.values()) {
            try {
              onMissed();
            } catch (error) {
              this.#onError(error);
            }
          }
        },
      },
    );
  }

  #removed(): void {
    this.#size--;
    if (this.#size > 0) return;
    this.#subscription?.close();
    this.#subscription = null;
  }

  #dispatch(event: TaskEvent): void {
    if (event.type === 'removed') return;
    for (const listener of this.#all.keys()) listener(event);
    const listeners = this.#byTask.get(event.task.id);
    if (listeners) for (const listener of listeners) listener(event);
  }
}

function once(action: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    action();
  };
}
