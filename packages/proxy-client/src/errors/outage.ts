import { isProxyError } from './proxy-error.js';

/**
 * The proxy away for a while: no answer at all, or a 502, 503 or 504 (restarting, a deploy, its
 * store away, a gateway in front of it). Waits and watches that have reached the proxy once wait
 * such a time out. A 500 is no outage: the proxy answered, and asking again gets the same.
 */
export function isProxyOutage(error: unknown): boolean {
  if (!isProxyError(error)) return false;
  if (error.code === 'unreachable' || error.code === 'response_timeout') return true;
  return error.status === 502 || error.status === 503 || error.status === 504;
}

/**
 * The proxy answered, if with a refusal (a task its restart lost: 404): an outage it was in is
 * over, and whoever showed it as away should hear so before the error.
 */
export function isProxyBack(error: unknown): boolean {
  return isProxyError(error) && error.status !== undefined && !isProxyOutage(error);
}
