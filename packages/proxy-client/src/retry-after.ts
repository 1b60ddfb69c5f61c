/**
 * Reads a `Retry-After` header: delta-seconds (`"5"`) or an HTTP date. Answers milliseconds, the
 * SDK's one unit, or undefined when the header is missing or unreadable.
 */
export function parseRetryAfterMs(
  header: string | null,
  now: number = Date.now(),
): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
