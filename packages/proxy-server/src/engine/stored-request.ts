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

export function binaryStringOf(chunks: readonly Buffer[]): BinaryString {
  const bytes = chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks);
  return bytes.toString('latin1') as BinaryString;
}

export function bytesOf(text: BinaryString): Buffer {
  return Buffer.from(text, 'latin1');
}
