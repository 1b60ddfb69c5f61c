import { hasErrorName, ProxyError, type ProxyErrorOptions } from './proxy-error.js';

/**
 * Any other non-2xx answer of the proxy. `code` is the envelope's `error` (`bad_request`,
 * `payload_too_large`, `shutting_down`...) or `http_<status>` when the body was not an envelope.
 */
export class ProxyResponseError extends ProxyError {
  override name = 'ProxyResponseError' as const;
  override readonly status: number;

  constructor(code: string, message: string, options: ProxyErrorOptions & { status: number }) {
    super(code, message, options);
    this.status = options.status;
  }
}

export function isProxyResponseError(value: unknown): value is ProxyResponseError {
  return hasErrorName<ProxyResponseError>(value, 'ProxyResponseError');
}
