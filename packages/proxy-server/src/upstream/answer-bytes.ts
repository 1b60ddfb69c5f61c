/** The most room taken at a time: a chunk that fits is copied into the room left. */
const BLOCK_BYTES = 64 * 1024;

/**
 * An answer body as it arrives, copied into blocks. undici hands over each piece of a chunked
 * body as its own Buffer (a view into the socket's read): kept as they came, a body of 1-byte
 * chunks held an object per byte, some 150 bytes of heap each, and 50 MB of answer (within the
 * default --result-size-limit) took gigabytes. Blocks keep it near its size, whatever its
 * framing, and hold no socket read alive.
 */
export class AnswerBytes {
  #blocks: Buffer[] = [];
  /** Bytes used in the last block. */
  #used = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  append(chunk: Uint8Array): void {
    // Most answers come in one chunk: a copy of its own size is the whole body, with nothing to
    // join at the end.
    if (this.#blocks.length === 0) {
      this.#blocks.push(Buffer.from(chunk));
      this.#used = chunk.length;
      this.#size = chunk.length;
      return;
    }
    let offset = 0;
    while (offset < chunk.length) {
      let block = this.#blocks.at(-1);
      if (block === undefined || this.#used === block.length) {
        // Growing to BLOCK_BYTES: an answer of a few small chunks takes a few small blocks.
        const rest = chunk.length - offset;
        block = Buffer.allocUnsafe(Math.max(rest, Math.min(BLOCK_BYTES, 2 * this.#size + rest)));
        this.#blocks.push(block);
        this.#used = 0;
      }
      const copied = Math.min(block.length - this.#used, chunk.length - offset);
      block.set(chunk.subarray(offset, offset + copied), this.#used);
      this.#used += copied;
      offset += copied;
    }
    this.#size += chunk.length;
  }

  /** The body in one Buffer of its exact size. */
  bytes(): Buffer {
    const [first] = this.#blocks;
    if (this.#blocks.length === 1 && first !== undefined && this.#used === first.length) {
      return first;
    }
    const last = this.#blocks.length - 1;
    const parts = this.#blocks.map((block, i) =>
      i === last ? block.subarray(0, this.#used) : block,
    );
    return Buffer.concat(parts, this.#size);
  }

  clear(): void {
    this.#blocks = [];
    this.#used = 0;
    this.#size = 0;
  }
}
