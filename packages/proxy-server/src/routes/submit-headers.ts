import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { MAX_IDEMPOTENCY_KEY_LENGTH } from 'proxy-client/wire';
import { DECIMAL } from '../decimal.js';
import { ProxyHttpError } from '../errors.js';
import { preferenceItems, preferenceName } from '../preference-items.js';

/**
 * The request's headers, with every header sent more than once as the list of its values. Node
 * joins a repeated header into one value ("a, b") or keeps the first, so `Idempotency-Key` or an
 * `X-Proxy-*` header sent twice would pass for one; as a list, the readers refuse it.
 */
export function headersOf(request: IncomingMessage): IncomingHttpHeaders {
  const { headers, rawHeaders } = request;
  let names = 0;
  for (const _ in headers) names++;
  // Each header line is two entries of rawHeaders: as many names as lines, no repeats.
  if (names * 2 === rawHeaders.length) return headers;
  const repeated: IncomingHttpHeaders = { ...headers };
  for (const [name, values] of Object.entries(request.headersDistinct)) {
    if (values !== undefined && values.length > 1) repeated[name] = values;
  }
  return repeated;
}

/**
 * `Idempotency-Key` as the IETF draft writes it (a structured-field string, quoted) or bare;
 * printable ASCII, at most 255 characters. Scoped to the API key the caller used, so two
 * keys never share a namespace. Null when the header is absent.
 */
export function idempotencyKeyOf(
  header: string | string[] | undefined,
  apiKey: string | null,
): string | null {
  if (header === undefined) return null;
  if (Array.isArray(header)) {
    throw new ProxyHttpError('bad_request', 'Send one Idempotency-Key header, not several');
  }
  const trimmed = header.trim();
  const key = trimmed.startsWith('"') ? unquoted(trimmed) : trimmed;
  if (
    key === null ||
    key === '' ||
    key.length > MAX_IDEMPOTENCY_KEY_LENGTH ||
    !/^[\x20-\x7e]+$/.test(key)
  ) {
    throw new ProxyHttpError(
      'bad_request',
      `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters, ` +
        'bare or as a quoted string (RFC 8941: \\" and \\\\ escaped, nothing else)',
    );
  }
  const scope = apiKey === null ? '' : createHash('sha256').update(apiKey).digest('base64url');
  return `${scope}:${key}`;
}

/**
 * The content of an RFC 8941 sf-string: `\"` and `\\` are the only escapes, and a bare `"` or
 * `\` inside is malformed, so `"a\"b"` is the key `a"b`. Null when malformed.
 */
function unquoted(quoted: string): string | null {
  const inner = /^"((?:[^"\\]|\\["\\])*)"$/.exec(quoted)?.[1];
  return inner === undefined ? null : inner.replace(/\\(["\\])/g, '$1');
}

export interface Preferences {
  /**
   * Seconds to hold the answer for the task to finish (`Prefer: wait=N`), capped; null when no
   * wait was asked for (0 was: its answer names --max-wait like any other wait's).
   */
  waitS: number | null;
  /** `Prefer: respond-async` was sent. */
  respondAsync: boolean;
}

/**
 * RFC 7240 preferences: `wait=N` and `respond-async`, in one or several `Prefer` headers, in
 * any order. Unknown or malformed preferences are ignored, and of a wait given twice the first
 * that can be read counts, as the RFC asks. A wait is cut to `maxWaitS` (`--max-wait`).
 */
export function preferencesOf(
  header: string | string[] | undefined,
  maxWaitS: number,
): Preferences {
  const preferences: Preferences = { waitS: null, respondAsync: false };
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  for (const item of values.flatMap(preferenceItems)) {
    const name = preferenceName(item);
    const value = item.split(';')[0]?.split('=')[1]?.trim();
    if (name === 'respond-async') preferences.respondAsync = true;
    // RFC 7240 lets a value be a token or a quoted string: `wait=5` and `wait="5"` are one.
    const seconds = value?.replace(/^"(.*)"$/, '$1');
    if (name !== 'wait' || preferences.waitS !== null) continue;
    if (seconds !== undefined && DECIMAL.test(seconds)) {
      preferences.waitS = Math.min(maxWaitS, Number(seconds));
    }
  }
  return preferences;
}
