/**
 * Headers that describe one connection rather than the message (RFC 9110 §7.6.1): a proxy passes
 * none of them on, in either direction. Names listed in a `Connection` header are hop-by-hop too.
 */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** The header names a `Connection` header's value lists, lower-cased. */
export function connectionOptions(value: string | readonly string[] | undefined): Set<string> {
  const names = new Set<string>();
  for (const line of typeof value === 'string' ? [value] : (value ?? [])) {
    for (const token of line.split(',')) names.add(token.trim().toLowerCase());
  }
  return names;
}

/**
 * The end-to-end headers of an answer from the target (names lower-cased, as undici gives them):
 * what the task's result keeps. The proxy's connection to the target is not the caller's.
 */
export function endToEndHeaders(
  headers: Record<string, string | string[]>,
): Record<string, string | string[]> {
  const named = connectionOptions(headers.connection);
  const kept: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && !named.has(name)) kept[name] = value;
  }
  return kept;
}
