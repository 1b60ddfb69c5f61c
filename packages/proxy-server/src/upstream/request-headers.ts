/**
 * Headers that describe one connection rather than the message, plus those the upstream client
 * sets itself (host, content-length) or cannot send (expect): none of them is forwarded.
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
]);

/**
 * An incoming request's raw headers packed into one string while the task waits: one flat
 * string survives garbage collections far more cheaply than an array of small strings, and
 * NUL cannot occur in a header that Node's parser accepted.
 */
export type PackedHeaders = string & { readonly packed: unique symbol };

const SEPARATOR = '\0';

export function packHeaders(rawHeaders: readonly string[]): PackedHeaders {
  return rawHeaders.join(SEPARATOR) as PackedHeaders;
}

/**
 * The end-to-end headers of a packed request as a flat `[name, value, ...]` list, keeping
 * their case, order and repeats. Headers named in `Connection` are hop-by-hop too; so is
 * `Authorization` when it carried the proxy's own API key.
 */
export function forwardedHeaders(packed: PackedHeaders, dropAuthorization: boolean): string[] {
  if (packed === '') return [];
  const rawHeaders = packed.split(SEPARATOR);
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
    if (NOT_FORWARDED.has(lower) || named?.has(lower)) continue;
    if (dropAuthorization && lower === 'authorization') continue;
    out.push(name, value);
  }
  return out;
}
