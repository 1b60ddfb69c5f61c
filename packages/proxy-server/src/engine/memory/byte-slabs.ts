const SLAB_BYTES = 16 * 1024;
/** Records longer than this get a buffer of their own rather than a slab's room. */
const OWN_BUFFER_ABOVE = SLAB_BYTES / 4;

/** Where a record's bytes are: `slab[start, end)`. */
export interface SlabRoom {
  slab: Buffer;
  start: number;
  end: number;
}

/**
 * Hands out room for records outside V8's heap, many to a slab. A young collection costs more
 * the more pages the old generation has (docs/benchmarks.md, 5b), so what the memory store
 * holds by the million is better kept as bytes here than as objects and strings there.
 * Records share slabs because an `ArrayBuffer` of its own per record would cost more than most
 * records; a slab is freed once nothing refers to it, and the store lets tasks go oldest
 * first, so slabs empty in turn. Room once handed out is never handed out again.
 */
export class ByteSlabs {
  #slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
  #used = 0;

  /** Room for `size` bytes: in the current slab, a new one, or, when large, a buffer of its own. */
  room(size: number): SlabRoom {
    if (size > OWN_BUFFER_ABOVE) return { slab: Buffer.allocUnsafeSlow(size), start: 0, end: size };
    if (this.#used + size > SLAB_BYTES) {
      this.#slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.#used = 0;
    }
    const start = this.#used;
    this.#used += size;
    return { slab: this.#slab, start, end: this.#used };
  }
}
