import type {
  RemovedEvent,
  Subscription,
  TaskEvent,
  TaskEventListener,
  TransitionEvent,
} from '../task-backend.js';

type Unnumbered = Omit<TransitionEvent, 'id'> | Omit<RemovedEvent, 'id'>;

/**
 * The local backend's events: numbered in order, told to every listener, and the last
 * `capacity` of them kept so that a subscriber that lost its connection can resume after the
 * last one it saw. Ids are `<boot>-<n>`: the boot part tells a resume after a restart (whose
 * events this process never had) from one within the window.
 *
 * Only resumable listeners (event streams) hand ids to clients, so events are kept only while
 * one listens and for a window's length after the last event one heard: a client can resume
 * from no other id. A proxy nobody watches keeps none: kept summaries outlive young
 * collections, so V8 allocates every task summary straight into the old generation, where
 * they pile up until a full collection (docs/benchmarks.md, scenario 5a).
 */
export class EventWindow {
  readonly #listeners = new Set<TaskEventListener>();
  readonly #resumable = new Set<TaskEventListener>();
  readonly #recent: (TaskEvent | undefined)[];
  readonly #boot: string;
  readonly #onError: (error: unknown, type: TaskEvent['type']) => void;
  /** The number the next event gets; events 1 .. next - 1 have been published. */
  #next = 1;
  /** Every event from this one to the last published is kept (or has left the window). */
  #keptFrom = 1;
  /** The last event a resumable listener heard; null before the first. */
  #lastHeard: number | null = null;

  constructor(
    readonly capacity: number,
    bootTime: number,
    onError: (error: unknown, type: TaskEvent['type']) => void,
  ) {
    this.#recent = new Array(capacity);
    this.#boot = bootTime.toString(36);
    this.#onError = onError;
  }

  get size(): number {
    return this.#listeners.size;
  }

  publish(unnumbered: Unnumbered): void {
    const n = this.#next++;
    const id = `${this.#boot}-${n}`;
    // Written out rather than spread: this runs for every transition of every task.
    const event: TaskEvent =
      unnumbered.type === 'removed'
        ? { id, type: unnumbered.type, count: unnumbered.count, local: unnumbered.local }
        : {
            id,
            type: unnumbered.type,
            task: unnumbered.task,
            local: unnumbered.local,
            processingMs: unnumbered.processingMs,
          };
    if (this.#resumable.size > 0) this.#lastHeard = n;
    if (this.#lastHeard !== null && n - this.#lastHeard <= this.capacity) {
      this.#recent[n % this.capacity] = event;
    } else {
      this.#recent[n % this.capacity] = undefined;
      this.#keptFrom = n + 1;
    }
    for (const listener of this.#listeners) this.#tell(listener, event);
  }

  /**
   * Replays the events after `after` first, when it can replay all of them (`complete`).
   * A `resumable` listener passes event ids on to clients who may resume after them.
   */
  subscribe(
    listener: TaskEventListener,
    { after, resumable = false }: { after?: string | undefined; resumable?: boolean } = {},
  ): Subscription {
    let complete = true;
    if (after !== undefined) {
      const from = this.#numberOf(after);
      const oldest = Math.max(this.#keptFrom, this.#next - this.capacity);
      if (from === null || from < oldest - 1 || from >= this.#next) {
        complete = false;
      } else {
        for (let n = from + 1; n < this.#next; n++) {
          const event = this.#recent[n % this.capacity];
          if (event) this.#tell(listener, event);
        }
      }
    }
    this.#listeners.add(listener);
    if (resumable) this.#resumable.add(listener);
    return {
      complete,
      close: () => {
        this.#listeners.delete(listener);
        this.#resumable.delete(listener);
      },
    };
  }

  /** The n of `<boot>-<n>` as this process wrote it (digits only); null for anything else. */
  #numberOf(id: string): number | null {
    const match = /^([0-9a-z]+)-(\d{1,15})$/.exec(id);
    return match?.[1] === this.#boot ? Number(match[2]) : null;
  }

  #tell(listener: TaskEventListener, event: TaskEvent): void {
    try {
      listener(event);
    } catch (error) {
      this.#onError(error, event.type);
    }
  }
}
