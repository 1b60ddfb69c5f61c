/**
 * How a waiting task keeps its request until it is handed to the forwarding lane: as two flat strings. Under
 * load the queue can hold a million requests, and every object they keep is traced and copied by
 * the garbage collector; measured, one string beats both an array of header strings and a
 * Buffer (whose external memory forces full collections as the queue grows).
 */

/** The raw headers `[name, value, ...]` joined by NUL, which no header Node accepts contains. */
export type PackedHeaders = string & { readonly packedHeaders: unique symbol };

/** Bytes as a latin1 string, one character per byte: exact both ways. */
export type BinaryString = string & { readonly binaryString: unique symbol };

const SEPARATOR = '\0';

export function packHeaders(rawHeaders: readonly string[]): PackedHeaders {
  return rawHeaders.join(SEPARATOR) as PackedHeaders;
}

export function unpackHeaders(packed: PackedHeaders): string[] {
  return packed === '' ? [] : packed.split(SEPARATOR);
}

/**
 * The headers by lowercase name, for reading the delivery policy again. A repeated header keeps
 * its last value: the policy's own headers were refused repeated at submission, and a tenant
 * header named only since (a restart with another `--fair-key`) is read as its last value.
 */
export function headerMapOf(packed: PackedHeaders): Record<string, string> {
  const raw = unpackHeaders(packed);
  const map: Record<string, string> = Object.create(null);
  for (let i = 0; i + 1 < raw.length; i += 2)
    map[(raw[i] as string).toLowerCase()] = raw[i + 1] as string;
  return map;
}

export function binaryStringOf(chunks: readonly Buffer[]): BinaryString {
  const bytes = chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks);
  return bytes.toString('latin1') as BinaryString;
}

export function bytesOf(text: BinaryString): Buffer {
  return Buffer.from(text, 'latin1');
}
