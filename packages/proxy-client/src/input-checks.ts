/**
 * What the SDK can send at all, exported so that tools built on it (the CLI) refuse the same
 * input up front, in their own words.
 */

import { isProxyApiKey } from './wire.js';

/** RFC 9110 token characters: what a method may be made of. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Methods fetch refuses to send, whatever the server would make of them. */
const UNSENDABLE_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);

/** A method a submission can carry: a token, and one fetch sends (not CONNECT, TRACE, TRACK). */
export function isSubmittableMethod(method: string): boolean {
  return TOKEN.test(method) && !UNSENDABLE_METHODS.has(method.toUpperCase());
}

/**
 * An API key worth sending: one a proxy can have (printable ASCII, no space), where a header could
 * carry Latin-1 and spaces too, to be answered 401 whatever the proxy's key.
 */
export function isSendableApiKey(key: string): boolean {
  return isProxyApiKey(key);
}

/**
 * A value as a message about it shows it. From plain JavaScript a forgotten `await` hands over a
 * Promise, which JSON shows as `{}`: it is named as one, with what to await (`toAwait`).
 */
export function shownValue(value: unknown, toAwait = 'it'): string {
  return isThenable(value) ? `a Promise: await ${toAwait} first` : String(JSON.stringify(value));
}

/** A Promise, or anything `await` would wait for. */
export function isThenable(value: unknown): boolean {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
