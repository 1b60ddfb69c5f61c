import { hasErrorName, ProxyError, type ProxyErrorOptions } from './proxy-error.js';

/**
 * The proxy's queue was full (503 `queue_full`), or the caller's tenant's share of it
 * (`tenant_queue_full`, with `--fair-key` and `--tenant-max-queued`); the task was not created.
 */
export class QueueFullError extends ProxyError {
  override name = 'QueueFullError' as const;
  declare readonly code: 'queue_full' | 'tenant_queue_full';
  /** Milliseconds the proxy asked callers to wait (its `Retry-After` header), when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    retryAfterMs: number | undefined,
    options: ProxyErrorOptions & { code?: 'queue_full' | 'tenant_queue_full' } = {},
  ) {
    const { code = 'queue_full', ...rest } = options;
    super(code, message, { status: 503, ...rest });
    this.retryAfterMs = retryAfterMs;
  }

  /**
   * The same wait in seconds, as the `Retry-After` header gives it.
   * @deprecated Every duration of the SDK is in milliseconds: use `retryAfterMs`.
   */
  get retryAfter(): number | undefined {
    return this.retryAfterMs === undefined ? undefined : this.retryAfterMs / 1000;
  }
}

/**
 * The proxy's codes for a full queue: the whole queue, or the caller's tenant's share of it
 * (`--tenant-max-queued`). Either way the task was not created, and only waiting helps.
 */
export function isQueueFullCode(code: unknown): code is QueueFullError['code'] {
  return code === 'queue_full' || code === 'tenant_queue_full';
}

export function isQueueFullError(value: unknown): value is QueueFullError {
  return hasErrorName<QueueFullError>(value, 'QueueFullError');
}
