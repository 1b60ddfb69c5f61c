import { SUBMIT_HEADERS } from 'proxy-client/wire';
import { preferenceItems, preferenceName } from '../preference-items.js';
import { connectionOptions, HOP_BY_HOP } from './hop-by-hop.js';

/**
 * Hop-by-hop headers, those the upstream client sets itself (host, content-length) or cannot send
 * (expect), and those that speak to the proxy (Idempotency-Key and every X-Proxy-* header): none
 * of them is forwarded.
 */
const NOT_FORWARDED = new Set([
  ...HOP_BY_HOP,
  'host',
  'content-length',
  'expect',
  SUBMIT_HEADERS.idempotencyKey,
]);
const TO_THE_PROXY = 'x-proxy-';
/** The preferences the proxy honours itself; the target's (`return=minimal`...) go on. */
const PROXY_PREFERENCES = new Set(['wait', 'respond-async']);

/**
 * The end-to-end headers of a request's raw headers (`[name, value, ...]`), keeping their case,
 * order and repeats. Headers named in `Connection` are hop-by-hop too; so is `Authorization` when
 * it carried the proxy's own API key (no longer stored with a task, but tasks stored by earlier
 * builds may hold it).
 */
export function forwardedHeaders(
  rawHeaders: readonly string[],
  dropAuthorization: boolean,
): string[] {
  const connection: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === 'connection') connection.push(rawHeaders[i + 1] ?? '');
  }
  const named = connection.length === 0 ? undefined : connectionOptions(connection);
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    const value = rawHeaders[i + 1];
    if (name === undefined || value === undefined) continue;
    const lower = name.toLowerCase();
    if (NOT_FORWARDED.has(lower) || named?.has(lower) || lower.startsWith(TO_THE_PROXY)) continue;
    if (dropAuthorization && lower === 'authorization') continue;
    if (lower === SUBMIT_HEADERS.prefer) {
      const theirs = targetPreferences(value);
      if (theirs !== '') out.push(name, theirs);
      continue;
    }
    out.push(name, value);
  }
  return out;
}

/**
 * A `Prefer` value (RFC 7240) without the preferences the proxy honours itself; as sent when it
 * has none of them.
 */
function targetPreferences(value: string): string {
  const items = preferenceItems(value);
  const theirs = items.filter((item) => !PROXY_PREFERENCES.has(preferenceName(item)));
  return theirs.length === items.length ? value : theirs.join(', ');
}

/**
 * The raw headers without `Authorization`: with `--api-key` it carries the proxy's own key, which
 * is never forwarded, so it is not stored with the task either. Kept, it would sit in the store in
 * clear, and a restart without `--api-key` would forward it to the target (a retry, or a task
 * still queued).
 */
export function withoutAuthorization(rawHeaders: readonly string[]): readonly string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.toLowerCase() !== 'authorization') out.push(name, rawHeaders[i + 1] as string);
  }
  return out;
}
