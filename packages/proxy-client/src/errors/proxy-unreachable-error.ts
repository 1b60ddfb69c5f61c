import { hasErrorName, ProxyError, type ProxyErrorOptions } from './proxy-error.js';

/**
 * No answer from the proxy: connection refused, DNS failure, network down (`code: 'unreachable'`),
 * or no answer within `timeoutMs` (`code: 'response_timeout'`).
 */
export class ProxyUnreachableError extends ProxyError {
  override name = 'ProxyUnreachableError' as const;
  declare readonly code: 'unreachable' | 'response_timeout';
  override readonly url: string;

  constructor(
    url: string,
    message: string,
    options: ProxyErrorOptions & { code?: 'unreachable' | 'response_timeout' } = {},
  ) {
    super(options.code ?? 'unreachable', message, { ...options, url });
    this.url = url;
  }
}

export function isProxyUnreachableError(value: unknown): value is ProxyUnreachableError {
  return hasErrorName<ProxyUnreachableError>(value, 'ProxyUnreachableError');
}
