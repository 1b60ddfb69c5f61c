import { setMaxListeners } from 'node:events';

export interface WorkerPoolOptions<T> {
  /** Worker loops taking items; each handles one item at a time. */
  numWorkers: number;
  /** Most items processed at once across all loops, so the real cap is min(numWorkers, concurrency). */
  concurrency: number;
  /** The next item to process, or undefined when there is none. */
  take(): T | undefined;
  /** Handles one item; `signal` aborts when `close()` runs out of grace. */
  process(item: T, signal: AbortSignal): Promise<void>;
  /** Called when `process` throws; the loop carries on. */
  onError(error: unknown, item: T): void;
}

/**
 * N worker loops behind one concurrency limit, in the manner of BullMQ's Worker: idle loops park
 * until `notify()`, `close()` stops taking work, waits for active items up to a grace period and
 * then aborts them. `close()` is idempotent.
 */
export class WorkerPool<T> {
  readonly #options: WorkerPoolOptions<T>;
  readonly #idle: Array<() => void> = [];
  readonly #waitingForSlot: Array<() => void> = [];
  readonly #active = new Set<Promise<void>>();
  /** One signal for all work: only a forced close aborts, and it aborts everything. */
  readonly #abort = new AbortController();
  readonly #loops: Promise<void>[];
  #running = 0;
  #closing = false;
  #closed: Promise<void> | null = null;

  constructor(options: WorkerPoolOptions<T>) {
    this.#options = options;
    // Every active item listens on the one signal; that many listeners is expected, not a leak.
    setMaxListeners(0, this.#abort.signal);
    this.#loops = Array.from({ length: options.numWorkers }, () => this.#loop());
  }

  /** Items being processed now. */
  get active(): number {
    return this.#running;
  }

  /** Wakes one idle loop; call after adding work. */
  notify(): void {
    this.#idle.shift()?.();
  }

  /**
   * Stops taking work and resolves once no item is active: items still running after `graceMs`
   * get their signal aborted and are awaited.
   */
  close(graceMs: number): Promise<void> {
    this.#closed ??= this.#close(graceMs);
    return this.#closed;
  }

  async #loop(): Promise<void> {
    while (!this.#closing) {
      if (this.#running >= this.#options.concurrency) {
        await new Promise<void>((resolve) => this.#waitingForSlot.push(resolve));
        continue;
      }
      const item = this.#options.take();
      if (item === undefined) {
        await new Promise<void>((resolve) => this.#idle.push(resolve));
        continue;
      }
      this.#running++;
      const work = this.#run(item, this.#abort.signal);
      this.#active.add(work);
      await work;
      this.#active.delete(work);
      this.#running--;
      this.#waitingForSlot.shift()?.();
    }
  }

  async #run(item: T, signal: AbortSignal): Promise<void> {
    try {
      await this.#options.process(item, signal);
    } catch (error) {
      this.#options.onError(error, item);
    }
  }

  async #close(graceMs: number): Promise<void> {
    this.#closing = true;
    for (const wake of this.#idle.splice(0)) wake();
    for (const wake of this.#waitingForSlot.splice(0)) wake();
    const settled = Promise.all(this.#active).then(() => true);
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), graceMs);
    });
    const finishedInTime = this.#active.size === 0 || (await Promise.race([settled, graceOver]));
    clearTimeout(timer);
    if (!finishedInTime) {
      this.#abort.abort();
      await settled;
    }
    await Promise.all(this.#loops);
  }
}
