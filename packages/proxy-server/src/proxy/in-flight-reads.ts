import type { Clock } from '../clock.js';
import type { TaskBackend } from '../engine/task-backend.js';

/**
 * How old the calls in flight may be, as read for estimates: every read of a pending task, every
 * page with one and every refused submission (its Retry-After) needs them, and a thousand
 * callers polling, or a burst refused by a full queue, would each make a read of the store's
 * counts (a walk over every call in flight; a round trip on Redis) for a figure of seconds to
 * hours.
 */
export const IN_FLIGHT_READ_MS = 1_000;

/**
 * When each call in flight started, as the estimates read it: one read of the backend's counts
 * shared by every reader while it is under `IN_FLIGHT_READ_MS` old.
 */
export class InFlightReads {
  readonly #backend: Pick<TaskBackend, 'counts'>;
  readonly #clock: Clock;
  /** The last read of the calls in flight, shared while it is fresh, and when it was asked. */
  #read: { askedAt: number; startedAt: Promise<number[]> } | null = null;
  /** What the last read that succeeded found; null before one, or once a read failed. */
  #last: number[] | null = null;

  constructor(backend: Pick<TaskBackend, 'counts'>, clock: Clock) {
    this.#backend = backend;
    this.#clock = clock;
  }

  /** What the last read that succeeded found, without reading; null when none did. */
  get last(): number[] | null {
    return this.#last;
  }

  /** When each call in flight started, the earliest first: the last read, or a fresh one. */
  startedAt(): Promise<number[]> {
    const now = this.#clock.monotonic();
    if (this.#read === null || now - this.#read.askedAt >= IN_FLIGHT_READ_MS) {
      const startedAt = this.#backend.counts().then((counts) => counts.inFlightStartedAt);
      this.#read = { askedAt: now, startedAt };
      startedAt.then(
        (read) => {
          if (this.#read?.startedAt === startedAt) this.#last = read;
        },
        // A failed read is the caller's error (503), and not kept for the next one.
        () => {
          if (this.#read?.startedAt !== startedAt) return;
          this.#read = null;
          this.#last = null;
        },
      );
    }
    return this.#read.startedAt;
  }
}
