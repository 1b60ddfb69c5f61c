/** One task waiting in line: its id and its admission sequence number. */
export interface InLine {
  id: string;
  seq: number;
}

/** Slots freed at the front before the arrays are compacted. */
const COMPACT_AFTER = 1024;

/**
 * The tasks waiting for a slot, in admission order (ascending sequence numbers). Taking from the
 * front and adding at the back are O(1); a task's place in line is a binary search, so it stays
 * exact when tasks leave from the middle (cancelled) or come back (a start that could not be
 * saved). Two flat arrays rather than an object per task: the line can hold a million tasks.
 */
export class PendingLine {
  #ids: (string | undefined)[] = [];
  #seqs: number[] = [];
  #head = 0;

  get size(): number {
    return this.#seqs.length - this.#head;
  }

  /**
   * Adds a task in sequence order: at the back, as a new one comes, or in its place, as one put
   * back does (a start that could not be saved, a cancel undone).
   */
  push(id: string, seq: number): void {
    const last = this.#seqs[this.#seqs.length - 1];
    if (this.size > 0 && last !== undefined && seq <= last) {
      this.#insert(id, seq);
      return;
    }
    this.#ids.push(id);
    this.#seqs.push(seq);
  }

  /** Takes the task at the front. */
  shift(): InLine | undefined {
    if (this.size === 0) return undefined;
    const id = this.#ids[this.#head] as string;
    const seq = this.#seqs[this.#head] as number;
    this.#ids[this.#head] = undefined;
    this.#head++;
    if (this.size === 0) this.#clear();
    else if (this.#head >= COMPACT_AFTER && this.#head * 2 >= this.#seqs.length) this.#compact();
    return { id, seq };
  }

  /** Puts a task back in its place (by sequence number), e.g. when its start could not be saved. */
  restore(task: InLine): void {
    this.#insert(task.id, task.seq);
  }

  /** Takes the task out of line wherever it is; false when it is not in line. */
  remove(seq: number): boolean {
    const at = this.#indexOf(seq);
    if (at === -1) return false;
    this.#ids.splice(at, 1);
    this.#seqs.splice(at, 1);
    return true;
  }

  /** 1-based place in line of the task with this sequence number, or null when not in line. */
  position(seq: number): number | null {
    const at = this.#indexOf(seq);
    return at === -1 ? null : at - this.#head + 1;
  }

  /** The task at the back (the newest), without taking it. */
  last(): InLine | undefined {
    if (this.size === 0) return undefined;
    const at = this.#seqs.length - 1;
    return { id: this.#ids[at] as string, seq: this.#seqs[at] as number };
  }

  /** Sequence numbers of the first `count` tasks in line, front first. */
  firstSeqs(count: number): number[] {
    return this.#seqs.slice(this.#head, this.#head + count);
  }

  /** How many tasks in line have a sequence number below `seq`. */
  countBefore(seq: number): number {
    return this.#lowerBound(seq) - this.#head;
  }

  /** Empties the line and returns what it held, front first. */
  drain(): InLine[] {
    const all: InLine[] = [];
    for (let at = this.#head; at < this.#seqs.length; at++) {
      all.push({ id: this.#ids[at] as string, seq: this.#seqs[at] as number });
    }
    this.#clear();
    return all;
  }

  #insert(id: string, seq: number): void {
    const at = this.#lowerBound(seq);
    if (at === this.#head && this.#head > 0) {
      this.#head--;
      this.#ids[this.#head] = id;
      this.#seqs[this.#head] = seq;
      return;
    }
    this.#ids.splice(at, 0, id);
    this.#seqs.splice(at, 0, seq);
  }

  #indexOf(seq: number): number {
    const at = this.#lowerBound(seq);
    return this.#seqs[at] === seq && at < this.#seqs.length ? at : -1;
  }

  /** The first index at or after the head whose sequence number is not below `seq`. */
  #lowerBound(seq: number): number {
    let low = this.#head;
    let high = this.#seqs.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.#seqs[mid] as number) < seq) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  #compact(): void {
    this.#ids = this.#ids.slice(this.#head);
    this.#seqs = this.#seqs.slice(this.#head);
    this.#head = 0;
  }

  #clear(): void {
    this.#ids = [];
    this.#seqs = [];
    this.#head = 0;
  }
}
