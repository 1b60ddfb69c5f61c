import { hasErrorName, ProxyError, type ProxyErrorOptions } from './proxy-error.js';

/**
 * The proxy wants an API key (401): none was given, or not the right one. `apiKeySent` says
 * which, since the advice differs.
 */
export class UnauthorizedError extends ProxyError {
  override name = 'UnauthorizedError' as const;
  declare readonly code: 'unauthorized';
  /** Whether the request carried an `Authorization` header. */
  readonly apiKeySent: boolean;

  constructor(message: string, options: ProxyErrorOptions & { apiKeySent?: boolean } = {}) {
    super('unauthorized', message, { status: 401, ...options });
    this.apiKeySent = options.apiKeySent ?? false;
  }
}

export function isUnauthorizedError(value: unknown): value is UnauthorizedError {
  return hasErrorName<UnauthorizedError>(value, 'UnauthorizedError');
}
