import { isProxyError } from './proxy-error.js';

/**
 * The proxy away for a while: no answer at all, or a 5xx (restarting, a deploy, its store away).
 * Waits and watches that have reached the proxy once wait such a time out.
 */
export function isProxyOutage(error: unknown): boolean {
  if (!isProxyError(error)) return false;
  return (
    error.code === 'unreachable' || error.code === 'response_timeout' || (error.status ?? 0) >= 500
  );
}
