/**
 * Headers that describe one connection rather than the message, those the upstream client sets
 * itself (host, content-length) or cannot send (expect), and those that speak to the proxy
 * (Idempotency-Key, Prefer, and every X-Proxy-* header): none of them is forwarded.
 */
const NOT_FORWARDED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
  'idempotency-key',
  'prefer',
]);
const TO_THE_PROXY = 'x-proxy-';

/**
 * The end-to-end headers of a request's raw headers (`[name, value, ...]`), keeping their case,
 * order and repeats. Headers named in `Connection` are hop-by-hop too; so is `Authorization` when
 * it carried the proxy's own API key.
 */
export function forwardedHeaders(
  rawHeaders: readonly string[],
  dropAuthorization: boolean,
): string[] {
  let named: Set<string> | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === 'connection') {
      named ??= new Set();
      for (const token of (rawHeaders[i + 1] ?? '').split(','))
        named.add(token.trim().toLowerCase());
    }
  }
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    const value = rawHeaders[i + 1];
    if (name === undefined || value === undefined) continue;
    const lower = name.toLowerCase();
    if (NOT_FORWARDED.has(lower) || named?.has(lower) || lower.startsWith(TO_THE_PROXY)) continue;
    if (dropAuthorization && lower === 'authorization') continue;
    out.push(name, value);
  }
  return out;
}
