import { UNTRUSTED_CERTIFICATE_CODES } from 'proxy-client/wire';
import { retryAfterMsOf } from '../upstream/task-outcome.js';

/**
 * How a callback receiver's answer, or the failure to get one, bears on the next delivery and
 * reads in a record or a log line, after the conventions of Standard Webhooks senders (Svix).
 */

/** No wait between two deliveries is longer, a receiver's Retry-After included. */
const MAX_RETRY_WAIT_MS = 10 * 60_000;

/** The receiver says its URL is no more: no delivery is made again. */
const GONE = 410;

/** A receiver rate-limiting (429) or down for a while (503) may say when to come back. */
const RETRY_AFTER_STATUSES = new Set([429, 503]);

const UNTRUSTED =
  "the receiver's TLS certificate is not signed by a CA the proxy trusts: start the proxy with NODE_EXTRA_CA_CERTS=/path/to/ca.pem";

export function isGone(statusCode: number | null): boolean {
  return statusCode === GONE;
}

/** The wait a 429 or 503 asks for with its `Retry-After`, in ms; null when none can be read. */
export function askedWaitMs(
  statusCode: number,
  headers: Record<string, string | string[] | undefined>,
  now: number,
): number | null {
  return RETRY_AFTER_STATUSES.has(statusCode) ? retryAfterMsOf(headers['retry-after'], now) : null;
}

/**
 * The wait before the next delivery, after `made` of them: `firstRetryMs`, four times longer
 * after each, 10 minutes at most. A receiver's Retry-After lengthens it, within those 10
 * minutes, and never shortens it: `Retry-After: 0` would spend every attempt within a second.
 */
export function retryWaitMs(made: number, firstRetryMs: number, askedMs: number | null): number {
  const backoffMs = firstRetryMs * 4 ** (made - 1);
  return Math.min(MAX_RETRY_WAIT_MS, Math.max(backoffMs, askedMs ?? 0));
}

/** A delivery's answer in a log line: a redirect, which is not followed, said as such. */
export function answeredOutcome(statusCode: number): string {
  const redirect = statusCode >= 300 && statusCode < 400;
  return `answered ${statusCode}${redirect ? ' (redirects are not followed)' : ''}`;
}

/**
 * Why no answer came; an untrusted certificate with how to trust its CA, its code in front: Node's
 * words ("self-signed certificate") say nothing of the remedy.
 */
export function failureOf(error: unknown): string {
  const code = codeOf(error) ?? codeOf(error instanceof Error ? error.cause : undefined);
  if (code !== undefined && UNTRUSTED_CERTIFICATE_CODES.has(code)) return `${code}: ${UNTRUSTED}`;
  return error instanceof Error ? error.message : String(error);
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
