import { ERROR_CODES, type ErrorCode } from '../wire.js';

/** Codes of the errors the SDK raises itself, with no error answer of the proxy behind them. */
export const SDK_ERROR_CODES = {
  unreachable: 'No answer from the proxy: connection refused, DNS failure, reset, offline',
  response_timeout: 'No answer from the proxy within timeoutMs',
  blocked_port:
    'Nothing sent: fetch refuses to connect to the port of baseUrl, one browsers block (6000, 6667, 10080...)',
  invalid_response: 'A 2xx answer that is not what a proxy-server sends',
  unknown_status:
    'waitForTask or watchTask read a task status this version of the SDK does not know',
  task_failed: 'The task ended failed (run, or waitForTask with throwOnFailure)',
  wait_timeout: "waitForTask's timeoutMs passed before the task finished",
} as const;
export type SdkErrorCode = keyof typeof SDK_ERROR_CODES;

/**
 * A non-2xx answer that carried no error code this SDK knows: not a proxy-server's error
 * envelope (a wrong `baseUrl`, a gateway in between), or a code from a newer server.
 */
export type HttpStatusErrorCode = `http_${number}`;

/**
 * Every `code` a `ProxyError` can have: the proxy's own error codes (`ERROR_CODES` in the wire
 * contract), the SDK's, and `http_<status>` for any other answer. Always an identifier, never a
 * sentence, so it can be switched on.
 */
export type ProxyErrorCode = ErrorCode | SdkErrorCode | HttpStatusErrorCode;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

export function httpStatusCode(status: number): HttpStatusErrorCode {
  return `http_${status}`;
}
