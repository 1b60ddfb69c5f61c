import { hasErrorName, ProxyError, type ProxyErrorOptions } from './proxy-error.js';

/**
 * The idempotency key was used before for another request (422 `idempotency_key_reused`): a key
 * names one request. Use a new key for a new request; no task was created.
 */
export class IdempotencyKeyReusedError extends ProxyError {
  override name = 'IdempotencyKeyReusedError' as const;
  declare readonly code: 'idempotency_key_reused';
  /** The key that was sent. */
  readonly idempotencyKey: string;

  constructor(idempotencyKey: string, message: string, options: ProxyErrorOptions = {}) {
    super('idempotency_key_reused', message, { status: 422, ...options });
    this.idempotencyKey = idempotencyKey;
  }
}

export function isIdempotencyKeyReusedError(value: unknown): value is IdempotencyKeyReusedError {
  return hasErrorName<IdempotencyKeyReusedError>(value, 'IdempotencyKeyReusedError');
}
