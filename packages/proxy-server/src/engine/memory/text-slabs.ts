const SLAB_BYTES = 16 * 1024;
/** Texts longer than this (in UTF-8 bytes) get a buffer of their own rather than a slab's room. */
const OWN_BUFFER_ABOVE = SLAB_BYTES / 4;

/**
 * Keeps texts as UTF-8 bytes outside V8's heap, many to a slab. The memory store holds every
 * finished task's answer, and a young collection costs more the more pages the old generation
 * has (docs/benchmarks.md, 5b), so answers held as strings slow every read's collections; as
 * bytes outside the heap each leaves only a small view behind. Texts share slabs because an
 * `ArrayBuffer` of its own per answer would cost more than most answers; a slab is freed once
 * none of its texts is kept, and the store lets tasks go oldest first, so slabs empty in turn.
 */
export class TextSlabs {
  #slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
  #used = 0;

  /** The text's UTF-8 bytes, in a slab or, when long, a buffer of its own. */
  keep(text: string): Buffer {
    const size = Buffer.byteLength(text, 'utf8');
    if (size > OWN_BUFFER_ABOVE) return Buffer.from(text, 'utf8');
    if (this.#used + size > SLAB_BYTES) {
      this.#slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.#used = 0;
    }
    const start = this.#used;
    this.#used += this.#slab.write(text, start, size, 'utf8');
    return this.#slab.subarray(start, this.#used);
  }
}
