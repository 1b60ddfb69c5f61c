import { hasErrorName, ProxyError, type ProxyErrorOptions } from './proxy-error.js';

/** The proxy's queue was full (503 `queue_full`); the task was not created. */
export class QueueFullError extends ProxyError {
  override name = 'QueueFullError' as const;
  /** Seconds the proxy asked callers to wait (its `Retry-After` header), when it said. */
  readonly retryAfter: number | undefined;

  constructor(message: string, retryAfter: number | undefined, options: ProxyErrorOptions = {}) {
    super('queue_full', message, { status: 503, ...options });
    this.retryAfter = retryAfter;
  }
}

export function isQueueFullError(value: unknown): value is QueueFullError {
  return hasErrorName<QueueFullError>(value, 'QueueFullError');
}
