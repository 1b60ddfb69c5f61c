/** Longer strings are rarely repeated and would make the strings held here cost more. */
const LONGEST = 512;

/**
 * Hands back an equal string it already holds, so that a queue of a million tasks with the
 * same path and the same request headers keeps one copy of each rather than a million: fewer
 * bytes per task, and fewer old-generation pages for every young collection to visit
 * (docs/benchmarks.md, 5b). Finished tasks keep theirs in their records, outside the heap. It forgets everything once it holds `capacity`
 * strings, so strings that never repeat cost it nothing for long.
 */
export class RecentStrings {
  readonly #held = new Map<string, string>();
  readonly #capacity: number;

  constructor(capacity = 1_024) {
    this.#capacity = capacity;
  }

  /** How many strings it holds. */
  get size(): number {
    return this.#held.size;
  }

  /** An equal string held since the last time this forgot, or `text` itself. */
  same<T extends string>(text: T): T {
    if (text.length > LONGEST) return text;
    const held = this.#held.get(text);
    if (held !== undefined) return held as T;
    if (this.#held.size >= this.#capacity) this.#held.clear();
    this.#held.set(text, text);
    return text;
  }
}
