import { hasErrorName, ProxyError, type ProxyErrorOptions } from './proxy-error.js';

/**
 * No answer from the proxy: connection refused, DNS failure, network down (`code: 'unreachable'`),
 * no answer within `timeoutMs` (`code: 'response_timeout'`), or nothing sent because fetch refuses
 * the port, one of those browsers block (`code: 'blocked_port'`): a port that no retry will mend.
 */
export class ProxyUnreachableError extends ProxyError {
  override name = 'ProxyUnreachableError' as const;
  declare readonly code: 'unreachable' | 'response_timeout' | 'blocked_port';
  override readonly url: string;

  constructor(
    url: string,
    message: string,
    options: ProxyErrorOptions & {
      code?: 'unreachable' | 'response_timeout' | 'blocked_port';
    } = {},
  ) {
    super(options.code ?? 'unreachable', message, { ...options, url });
    this.url = url;
  }
}

export function isProxyUnreachableError(value: unknown): value is ProxyUnreachableError {
  return hasErrorName<ProxyUnreachableError>(value, 'ProxyUnreachableError');
}
