import type { ProxyErrorCode } from './codes.js';

/**
 * Marks every error this SDK throws. A registered symbol is the same in every copy of the package,
 * so the guards keep working when an app ends up with two copies (ESM and CJS, or two versions),
 * where `instanceof` would not.
 */
const PROXY_ERROR = Symbol.for('proxy-client.ProxyError');

export interface ProxyErrorOptions {
  /** HTTP status of the proxy's answer, when there was one. */
  status?: number;
  /** Headers of the proxy's answer, when there was one. */
  headers?: Headers;
  /** Method and URL of the request that failed, when the error comes from one. */
  method?: string;
  url?: string;
  cause?: unknown;
}

/** Base of every error the SDK throws; `code` is stable, `message` is for people. */
export class ProxyError extends Error {
  override name = 'ProxyError';
  /**
   * The proxy's error code (`queue_full`, `task_not_found`...), the SDK's own (`unreachable`,
   * `wait_timeout`...), or `http_<status>` for an answer without a code the SDK knows.
   */
  readonly code: ProxyErrorCode;
  readonly status: number | undefined;
  /** The answer's headers (`retry-after`, `x-request-id`...) when the proxy answered. */
  readonly headers: Headers | undefined;
  readonly method: string | undefined;
  readonly url: string | undefined;

  constructor(code: ProxyErrorCode, message: string, options: ProxyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.headers = options.headers;
    this.method = options.method;
    this.url = options.url;
    Object.defineProperty(this, PROXY_ERROR, { value: true });
  }
}

export function isProxyError(value: unknown): value is ProxyError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { [PROXY_ERROR]?: unknown })[PROXY_ERROR] === true
  );
}

/** Guard for one subclass by its `name`, which every copy of the package sets the same way. */
export function hasErrorName<T extends ProxyError>(value: unknown, name: T['name']): value is T {
  return isProxyError(value) && value.name === name;
}
