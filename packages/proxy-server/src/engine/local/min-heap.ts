/** A binary min-heap ordered by `key`: O(log n) push and pop, O(1) peek. */
export class MinHeap<T> {
  readonly #items: T[] = [];
  readonly #key: (item: T) => number;

  constructor(key: (item: T) => number) {
    this.#key = key;
  }

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    const items = this.#items;
    items.push(item);
    let at = items.length - 1;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (this.#key(items[parent] as T) <= this.#key(item)) break;
      items[at] = items[parent] as T;
      at = parent;
    }
    items[at] = item;
  }

  /** Keeps only the items `keep` accepts; a sorted array is a heap. */
  retain(keep: (item: T) => boolean): void {
    const items = this.#items;
    let kept = 0;
    for (const item of items) if (keep(item)) items[kept++] = item;
    items.length = kept;
    items.sort((a, b) => this.#key(a) - this.#key(b));
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child =
        right < items.length && this.#key(items[right] as T) < this.#key(items[left] as T)
          ? right
          : left;
      if (this.#key(items[child] as T) >= this.#key(last)) break;
      items[at] = items[child] as T;
      at = child;
    }
    items[at] = last;
    return top;
  }
}
