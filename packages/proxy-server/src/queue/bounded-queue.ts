/**
 * A bounded FIFO on a ring buffer: push at the back, shift at the front, both O(1) (amortised).
 * The ring starts small and doubles up to `capacity`, so a large `--max-queue-size` costs memory
 * only once the queue really grows. Every pushed item gets a sequence number, from which the
 * proxy derives each task's place in line without searching.
 */
const INITIAL_SLOTS = 1024;

export class BoundedQueue<T> {
  #slots: (T | undefined)[];
  #head = 0;
  #size = 0;
  #pushed = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`queue capacity must be a whole number ≥ 1, got ${capacity}`);
    }
    this.#slots = new Array<T | undefined>(Math.min(capacity, INITIAL_SLOTS));
  }

  get size(): number {
    return this.#size;
  }

  get isFull(): boolean {
    return this.#size === this.capacity;
  }

  /** The sequence number the next pushed item will get. */
  get nextSeq(): number {
    return this.#pushed;
  }

  /** Appends the item and returns its sequence number; undefined when the queue is full. */
  push(item: T): number | undefined {
    if (this.#size === this.capacity) return undefined;
    if (this.#size === this.#slots.length) this.#grow();
    this.#slots[(this.#head + this.#size) % this.#slots.length] = item;
    this.#size++;
    return this.#pushed++;
  }

  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#slots[this.#head];
    this.#slots[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#slots.length;
    this.#size--;
    return item;
  }

  /** Doubles the ring (never past capacity), laying the items out from index 0 in order. */
  #grow(): void {
    const length = this.#slots.length;
    const grown = new Array<T | undefined>(Math.min(this.capacity, length * 2));
    for (let i = 0; i < this.#size; i++) grown[i] = this.#slots[(this.#head + i) % length];
    this.#slots = grown;
    this.#head = 0;
  }
}
