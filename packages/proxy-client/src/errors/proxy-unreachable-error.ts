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
  /**
   * The `Idempotency-Key` a submission carried (the caller's, or the one the SDK made for the
   * call), `undefined` for any other request. Without an answer, the task may have been created:
   * submitting again with this key answers with that task rather than start another.
   */
  readonly idempotencyKey: string | undefined;
  /**
   * Whether the request may have reached the proxy: an attempt connected (or was answered) before
   * failing, or the answer did not come in time. False when every attempt certainly sent nothing
   * (a refused connection, an unknown host, a blocked port, a failed TLS handshake).
   */
  readonly mayHaveArrived: boolean;

  constructor(
    url: string,
    message: string,
    options: ProxyErrorOptions & {
      code?: 'unreachable' | 'response_timeout' | 'blocked_port';
      idempotencyKey?: string | undefined;
      mayHaveArrived?: boolean;
    } = {},
  ) {
    super(options.code ?? 'unreachable', message, { ...options, url });
    this.url = url;
    this.idempotencyKey = options.idempotencyKey;
    this.mayHaveArrived = options.mayHaveArrived ?? false;
  }
}

export function isProxyUnreachableError(value: unknown): value is ProxyUnreachableError {
  return hasErrorName<ProxyUnreachableError>(value, 'ProxyUnreachableError');
}
