import { hasErrorName, ProxyError, type ProxyErrorOptions } from './proxy-error.js';

/** The proxy wants an API key (401): none was given, or not the right one. */
export class UnauthorizedError extends ProxyError {
  override name = 'UnauthorizedError' as const;

  constructor(message: string, options: ProxyErrorOptions = {}) {
    super('unauthorized', message, { status: 401, ...options });
  }
}

export function isUnauthorizedError(value: unknown): value is UnauthorizedError {
  return hasErrorName<UnauthorizedError>(value, 'UnauthorizedError');
}
