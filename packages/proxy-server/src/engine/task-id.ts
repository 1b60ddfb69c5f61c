import { randomFillSync } from 'node:crypto';

const IDS_PER_REFILL = 256;
const entropy = Buffer.alloc(16 * IDS_PER_REFILL);
let next = entropy.length;
const text = Buffer.alloc(36);
const HEX = Buffer.from('0123456789abcdef', 'latin1');
const DASH = 0x2d;

/**
 * A random (version 4) UUID, from the same cryptographic source as `crypto.randomUUID()` and
 * just as unguessable, but returned as one flat string. `randomUUID()` builds its result by
 * concatenation, so what it returns is a tree of about twenty string pieces (over 500 bytes of
 * heap); every task keeps its id for life, so that tree would be kept, traced and copied by the
 * garbage collector for every task.
 */
export function newTaskId(): string {
  if (next === entropy.length) {
    randomFillSync(entropy);
    next = 0;
  }
  const at = next;
  next += 16;
  entropy[at + 6] = ((entropy[at + 6] ?? 0) & 0x0f) | 0x40;
  entropy[at + 8] = ((entropy[at + 8] ?? 0) & 0x3f) | 0x80;
  let out = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[out++] = DASH;
    const byte = entropy[at + i] ?? 0;
    text[out++] = HEX[byte >> 4] ?? 0;
    text[out++] = HEX[byte & 0x0f] ?? 0;
  }
  return text.toString('latin1');
}
