/**
 * A bounded FIFO on a ring buffer: push at the back, shift at the front, both O(1) and
 * allocation-free. Every pushed item gets a sequence number, so an item's place in line is
 * `seq - shifted + 1` without searching.
 */
export class BoundedQueue<T> {
  readonly #slots: (T | undefined)[];
  #head = 0;
  #size = 0;
  #pushed = 0;
  #shifted = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`queue capacity must be a whole number ≥ 1, got ${capacity}`);
    }
    this.#slots = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.#size;
  }

  get isFull(): boolean {
    return this.#size === this.capacity;
  }

  /** Items taken off the front so far. */
  get shifted(): number {
    return this.#shifted;
  }

  /** The sequence number the next pushed item will get. */
  get nextSeq(): number {
    return this.#pushed;
  }

  /** Appends the item and returns its sequence number; undefined when the queue is full. */
  push(item: T): number | undefined {
    if (this.#size === this.capacity) return undefined;
    this.#slots[(this.#head + this.#size) % this.capacity] = item;
    this.#size++;
    return this.#pushed++;
  }

  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#slots[this.#head];
    this.#slots[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.capacity;
    this.#size--;
    this.#shifted++;
    return item;
  }

  /** 1-based place in line of the item pushed with `seq`, or null if it already left. */
  positionOf(seq: number): number | null {
    const position = seq - this.#shifted + 1;
    return position >= 1 && position <= this.#size ? position : null;
  }
}
