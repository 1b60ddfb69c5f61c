/** The bytes read passed the most the reader takes. */
export class TooLargeError extends Error {
  override readonly name = 'TooLargeError';
}

/**
 * Reads `source` whole, unless it holds more than `maxBytes`: `/dev/zero` or a pipe that never
 * ends would otherwise fill the memory until the process is killed.
 */
export async function readAtMost(
  source: AsyncIterable<Uint8Array>,
  maxBytes: number,
): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of source) {
    bytes += chunk.length;
    if (bytes > maxBytes) throw new TooLargeError(`more than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
