import type { FastifyReply } from 'fastify';
import { ERROR_CODES, type ErrorBody, type ErrorCode } from 'proxy-client/wire';

/**
 * The proxy's own error answers (not task failures). Each code's HTTP status comes from the wire
 * contract's `ERROR_CODES`; the default message is what people read when none is more specific.
 */
export const ERROR_MESSAGES: Record<ErrorCode, string> = {
  bad_request: 'The request is malformed',
  invalid_task_id: 'The task id is not a UUID',
  invalid_query: 'A query parameter is invalid',
  unauthorized: 'Missing or wrong API key: send "Authorization: Bearer <key>"',
  task_not_found: 'No task with this id (it may have been cleaned up)',
  no_result: 'The task finished without an answer from the target',
  not_found: 'No such route',
  method_not_allowed: 'This route takes another method (see the Allow header)',
  task_finished: 'The task has already finished',
  task_not_finished: 'The task has not finished yet',
  request_timeout: 'The request did not arrive within the request timeout',
  payload_too_large: 'The request body is larger than the body limit',
  headers_too_large: 'The request line and headers are larger than Node reads',
  idempotency_key_reused:
    'This Idempotency-Key was used with another request; use a new key for a new request',
  expectation_failed: 'The proxy meets no Expect but 100-continue',
  queue_full: 'The queue is full; retry after the time in the Retry-After header',
  tenant_queue_full:
    'Your share of the queue is full; retry after the time in the Retry-After header',
  callback_not_allowed:
    'The callback URL is not one the proxy may call: not http(s), with credentials, or of an origin --callback-allow does not list',
  shutting_down: 'The proxy is shutting down and takes no new tasks',
  store_unavailable:
    'The task store cannot be used right now; retry after the time in the Retry-After header',
  internal_error: 'The proxy failed unexpectedly',
};

export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code];
}

export function errorBody(code: ErrorCode, message = ERROR_MESSAGES[code]): ErrorBody {
  return { success: false, error: code, message };
}

/** Thrown anywhere in a request; the error handler turns it into the envelope with its headers. */
export class ProxyHttpError extends Error {
  override readonly name = 'ProxyHttpError';
  readonly statusCode: number;

  constructor(
    readonly code: ErrorCode,
    message = ERROR_MESSAGES[code],
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.statusCode = statusOf(code);
  }
}

/** A body over `--body-limit`, named so that whoever reads it knows which setting to raise. */
export function bodyTooLarge(limitBytes: number): ProxyHttpError {
  return new ProxyHttpError(
    'payload_too_large',
    `The request body is larger than ${sizeText(limitBytes)}, the proxy's --body-limit`,
  );
}

/** A size as `--body-limit` is usually written (`10mb`, `512kb`), and in bytes. */
function sizeText(bytes: number): string {
  for (const [unit, size] of [
    ['mb', 1024 ** 2],
    ['kb', 1024],
  ] as const) {
    if (bytes % size === 0) return `${bytes / size}${unit} (${bytes} bytes)`;
  }
  return `${bytes} bytes`;
}

/**
 * A header that must come once came on several lines: Node joins them into one value ("a, b"),
 * which would pass for a value of its own. `label` as people write the header.
 */
export function sentSeveralTimes(label: string): ProxyHttpError {
  return new ProxyHttpError('bad_request', `Send one ${label} header, not several`);
}

/** A body sent to a route that reads none: `path` as the caller or the route names it. */
export function takesNoBody(method: string, path: string): ProxyHttpError {
  return new ProxyHttpError('bad_request', `${method} ${path} takes no body`);
}

export function isProxyHttpError(error: unknown): error is ProxyHttpError {
  return error instanceof Error && error.name === 'ProxyHttpError';
}

/** Sends the error envelope; the one way routes answer with an error they decided on. */
export function sendError(
  reply: FastifyReply,
  code: ErrorCode,
  message = ERROR_MESSAGES[code],
  headers: Readonly<Record<string, string>> = {},
): FastifyReply {
  return reply.code(statusOf(code)).headers(headers).send(errorBody(code, message));
}
