import {
  ANSWER_HIDDEN,
  browserFailureCode,
  PREFLIGHT_REFUSED,
} from '../transport/browser-failure.js';
import { isProxyError } from './proxy-error.js';

/**
 * The proxy away for a while: no answer at all, or a 502, 503 or 504 (restarting, a deploy, its
 * store away, a gateway in front of it). Waits and watches that have reached the proxy once wait
 * such a time out. A 500 is no outage: the proxy answered, and asking again gets the same. Nor
 * is a failure a browser's words hid and the SDK told apart (a proxy that refuses the page's
 * origin, a streamed body the browser will not send): no wait mends it.
 */
export function isProxyOutage(error: unknown): boolean {
  if (!isProxyError(error)) return false;
  if (error.code === 'unreachable') return browserFailureCode(error.cause) === undefined;
  if (error.code === 'response_timeout') return true;
  return error.status === 502 || error.status === 503 || error.status === 504;
}

/**
 * The proxy answered, if with a refusal (a task its restart lost: 404; this page's origin, which
 * a restart without its --cors-origin refuses): an outage it was in is over, and whoever showed
 * it as away should hear so before the error.
 */
export function isProxyBack(error: unknown): boolean {
  if (!isProxyError(error) || isProxyOutage(error)) return false;
  const code = browserFailureCode(error.cause);
  return error.status !== undefined || code === PREFLIGHT_REFUSED || code === ANSWER_HIDDEN;
}
