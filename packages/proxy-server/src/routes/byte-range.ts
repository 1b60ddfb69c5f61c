/** One byte range of a body, both ends included; or a range past its end; or none to serve. */
export type ByteRange = { start: number; end: number } | 'unsatisfiable' | null;

/**
 * The one byte range `Range` asks of a body of `size` bytes (RFC 9110 §14.1.2): `bytes=a-b`,
 * `bytes=a-` or `bytes=-n`. Several ranges, another unit or a malformed value give null, and the
 * whole body is served, as the RFC lets a server do; a range starting past the end is
 * unsatisfiable.
 */
export function byteRangeOf(range: string | undefined, size: number): ByteRange {
  const match = range === undefined ? null : /^bytes=(\d*)-(\d*)$/i.exec(range.trim());
  if (!match) return null;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return null;
  if (first === '') {
    const length = Number(last);
    if (length === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}

/**
 * Whether `If-Range` lets a range be served (RFC 9110 §13.1.5): absent, or naming the answer's
 * own strong ETag or its exact Last-Modified date (sent twice, it names nothing).
 */
export function ifRangeHolds(
  ifRange: string | string[] | undefined,
  headers: Readonly<Record<string, string | string[] | undefined>>,
): boolean {
  if (ifRange === undefined) return true;
  if (Array.isArray(ifRange)) return false;
  const value = ifRange.trim();
  const own = value.startsWith('"') ? headers.etag : headers['last-modified'];
  return !value.startsWith('W/') && typeof own === 'string' && own === value;
}
