/** The two lists a task sits in at once: all tasks, and the tasks of its current status. */
export interface ListLinks {
  newerInAll: ListLinks | null;
  olderInAll: ListLinks | null;
  newerInStatus: ListLinks | null;
  olderInStatus: ListLinks | null;
}

type Link = 'all' | 'status';
const KEYS = {
  all: { newer: 'newerInAll', older: 'olderInAll' },
  status: { newer: 'newerInStatus', older: 'olderInStatus' },
} as const;

/**
 * An intrusive doubly linked list, newest at the head. The links live on the task itself, so
 * adding, removing and moving a task are O(1) and allocate nothing; a page costs
 * O(min(offset, size - offset) + limit) because it walks in from the nearer end.
 */
export class TaskList<T extends ListLinks> {
  #head: T | null = null;
  #tail: T | null = null;
  #size = 0;
  readonly #newer: 'newerInAll' | 'newerInStatus';
  readonly #older: 'olderInAll' | 'olderInStatus';

  constructor(link: Link) {
    this.#newer = KEYS[link].newer;
    this.#older = KEYS[link].older;
  }

  get size(): number {
    return this.#size;
  }

  /** The item that entered the list first. */
  get oldest(): T | null {
    return this.#tail;
  }

  addNewest(item: T): void {
    item[this.#newer] = null;
    item[this.#older] = this.#head;
    if (this.#head) this.#head[this.#newer] = item;
    else this.#tail = item;
    this.#head = item;
    this.#size++;
  }

  remove(item: T): void {
    const newer = item[this.#newer] as T | null;
    const older = item[this.#older] as T | null;
    if (newer) newer[this.#older] = older;
    else this.#head = older;
    if (older) older[this.#newer] = newer;
    else this.#tail = newer;
    item[this.#newer] = null;
    item[this.#older] = null;
    this.#size--;
  }

  /** Puts `next` where `item` was; `item` leaves the list. */
  replace(item: T, next: T): void {
    const newer = item[this.#newer] as T | null;
    const older = item[this.#older] as T | null;
    next[this.#newer] = newer;
    next[this.#older] = older;
    if (newer) newer[this.#older] = next;
    else this.#head = next;
    if (older) older[this.#newer] = next;
    else this.#tail = next;
    item[this.#newer] = null;
    item[this.#older] = null;
  }

  /** Items `offset .. offset + limit` counted from the newest. */
  page(offset: number, limit: number): T[] {
    const end = Math.min(this.#size, offset + limit);
    if (offset >= end) return [];
    const out: T[] = new Array(end - offset);
    if (offset <= this.#size - end) {
      let item = this.#head;
      for (let i = 0; i < offset && item; i++) item = item[this.#older] as T | null;
      for (let i = 0; i < out.length && item; i++) {
        out[i] = item;
        item = item[this.#older] as T | null;
      }
    } else {
      let item = this.#tail;
      for (let i = this.#size - 1; i >= end && item; i--) item = item[this.#newer] as T | null;
      for (let i = out.length - 1; i >= 0 && item; i--) {
        out[i] = item;
        item = item[this.#newer] as T | null;
      }
    }
    return out;
  }
}
