import type { ErrorCode } from '../wire.js';
import type { HttpStatusErrorCode } from './codes.js';
import { hasErrorName, ProxyError, type ProxyErrorOptions } from './proxy-error.js';

/**
 * Any other non-2xx answer. `code` is the proxy's error code (`bad_request`, `payload_too_large`,
 * `shutting_down`...), or `http_<status>` when the answer carried no code this SDK knows (not a
 * proxy-server's error envelope, or a code from a newer server).
 */
export class ProxyResponseError extends ProxyError {
  override name = 'ProxyResponseError' as const;
  declare readonly code: ErrorCode | HttpStatusErrorCode;
  override readonly status: number;
  override readonly headers: Headers;

  constructor(
    code: ErrorCode | HttpStatusErrorCode,
    message: string,
    options: ProxyErrorOptions & { status: number; headers: Headers },
  ) {
    super(code, message, options);
    this.status = options.status;
    this.headers = options.headers;
  }
}

export function isProxyResponseError(value: unknown): value is ProxyResponseError {
  return hasErrorName<ProxyResponseError>(value, 'ProxyResponseError');
}
