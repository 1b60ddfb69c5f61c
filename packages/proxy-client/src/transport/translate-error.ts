import { isHTTPError, isTimeoutError } from 'ky';
import {
  errorFromResponse,
  type FailedRequest,
  invalidResponseError,
} from '../errors/error-from-response.js';
import { msText } from '../errors/ms-text.js';
import { isProxyError, type ProxyError } from '../errors/proxy-error.js';
import { ProxyUnreachableError } from '../errors/proxy-unreachable-error.js';
import { requestLine } from '../errors/request-line.js';
import {
  ANSWER_HIDDEN,
  BROWSER_NETWORK_ERRORS,
  browserFailureCode,
  PREFLIGHT_REFUSED,
} from './browser-failure.js';
import { isBlockedPort, isNetworkError } from './retry-policy.js';

/**
 * Turns whatever ky or fetch threw into the SDK's taxonomy, keeping the original as `cause`. An
 * aborted signal wins over everything: the caller gets the signal's own reason, as fetch would give.
 * Errors the SDK does not recognise (a throwing hook, say) pass through untouched.
 */
export async function translateError(
  error: unknown,
  request: FailedRequest & { timeoutMs: number },
  signal: AbortSignal | undefined,
): Promise<unknown> {
  if (signal?.aborted) return signal.reason;
  if (isProxyError(error)) return error;
  const { method, url } = request;
  if (isHTTPError(error)) {
    const apiKeySent = error.request.headers.has('authorization');
    return errorFromResponse(error.response, { ...request, apiKeySent }, error);
  }
  if (isTimeoutError(error)) return responseTimeoutError(request, error);
  if (isBlockedPort(error)) {
    return new ProxyUnreachableError(
      url,
      `${requestLine(method, url)}: fetch refuses to connect to port ${new URL(url).port}, one browsers block: run the proxy on another port`,
      { code: 'blocked_port', method, cause: error },
    );
  }
  const undecodable = undecodableBody(error, request);
  if (undecodable) return undecodable;
  if (isNetworkError(error)) {
    return new ProxyUnreachableError(
      url,
      `${requestLine(method, url)}: ${whatFailed(error)}${lostAnswerAdvice(request)}`,
      {
        method,
        cause: error,
        idempotencyKey: request.idempotencyKey,
        mayHaveArrived: request.mayHaveArrived === true,
      },
    );
  }
  return error;
}

/**
 * fetch reports a body its `Content-Encoding` does not decode as a broken connection
 * ("terminated", zlib's error as the cause), but the proxy did answer: with something no proxy
 * sends.
 */
function undecodableBody(
  error: unknown,
  request: FailedRequest & { headers?: Headers },
): ProxyError | undefined {
  const cause = causeOf(error);
  // zlib's codes (gzip, deflate) start Z_, the brotli decoder's ERR__ERROR_.
  if (typeof cause?.code !== 'string' || !/^(Z_|ERR__ERROR_)/.test(cause.code)) return undefined;
  const encoding = request.headers?.get('content-encoding') ?? 'compressed';
  return invalidResponseError(
    request,
    `its ${encoding} body does not decompress: ${cause.message ?? cause.code}`,
    error,
  );
}

/** No whole answer within the request's time limit: its headers, or its body after them. */
export function responseTimeoutError(
  request: FailedRequest & { timeoutMs: number },
  cause: unknown,
): ProxyUnreachableError {
  const { method, url } = request;
  return new ProxyUnreachableError(
    url,
    `${requestLine(method, url)}: no answer from the proxy within ${msText(request.timeoutMs)}${lostAnswerAdvice({ ...request, mayHaveArrived: true })}`,
    {
      code: 'response_timeout',
      method,
      cause,
      idempotencyKey: request.idempotencyKey,
      mayHaveArrived: true,
    },
  );
}

/**
 * No answer to a submission of `run` or `submitAndWait` by the call's deadline: the request had
 * what was left of the call's `timeoutMs`, and the message names that limit as the caller set it.
 * The task may have been created, key or no key.
 */
export function callTimeoutError(
  error: ProxyUnreachableError,
  limitMs: number,
): ProxyUnreachableError {
  const { method = 'POST', url, idempotencyKey } = error;
  const advice =
    lostAnswerAdvice({ method, url, idempotencyKey }) || '; the task may have been created';
  return new ProxyUnreachableError(
    url,
    `${requestLine(method, url)}: no answer from the proxy within the call's timeoutMs (${msText(limitMs)})${advice}`,
    { code: 'response_timeout', method, cause: error, idempotencyKey, mayHaveArrived: true },
  );
}

/**
 * A submission left without an answer may have created its task (the request may have arrived
 * before the connection broke or the time ran out): its key is how to ask again safely, or the
 * request's own note says what to do. One that certainly sent nothing (refused, every attempt)
 * changed nothing, and needs no note.
 */
function lostAnswerAdvice({
  idempotencyKey,
  mayHaveArrived,
  lostAnswerNote,
}: FailedRequest): string {
  if (mayHaveArrived === false) return '';
  if (lostAnswerNote !== undefined) return `; ${lostAnswerNote}`;
  return idempotencyKey === undefined
    ? ''
    : `; the task may have been created: submit again with idempotencyKey '${idempotencyKey}' to be answered with it rather than start another`;
}

/** A failure a browser's words hid, once told apart (see markBrowserFailure), or the words. */
function whatFailed(error: unknown): string {
  const code = browserFailureCode(error);
  if (code === undefined) return `could not reach the proxy (${describeNetworkError(error)})`;
  const origin = globalThis.location?.origin ?? 'unknown';
  // The probes show a server answers there, not that it is the proxy: a baseUrl set to the
  // target, or to any server without CORS, fails the same way.
  const refused = `it answers, but not to this page's origin (${origin}): if it is the proxy, start it with --cors-origin ${origin} (or add it to the list); if not, set baseUrl to the proxy's URL`;
  if (code === PREFLIGHT_REFUSED) return `${refused}; the browser asked it first and sent nothing`;
  if (code === ANSWER_HIDDEN) {
    return `${refused}; a request this plain is sent without asking first, so the proxy got it (a submission: the task was probably created) and the browser hid its answer`;
  }
  return 'the browser would not send a ReadableStream body to an http: URL: browsers stream a request body only over HTTP/2, which they speak only over https; send a Blob (await new Response(stream).blob()) instead';
}

/**
 * Node's fetch says only "fetch failed"; the useful part (ECONNREFUSED, ENOTFOUND) is in `cause`.
 * A browser gives no cause at all ("Failed to fetch"), and hides a CORS refusal behind the same
 * words: only its console tells them apart, so the message says where to look.
 */
function describeNetworkError(error: unknown): string {
  const cause = causeOf(error);
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  const message = error instanceof Error ? error.message : String(error);
  return cause === undefined && BROWSER_NETWORK_ERRORS.has(message)
    ? `${message}; ${CORS_LOOKALIKE}`
    : message;
}

const CORS_LOOKALIKE =
  "in a browser a proxy that does not allow this page's origin (its --cors-origin) fails the same way: the console says which";

function causeOf(error: unknown): { code?: unknown; message?: unknown } | undefined {
  return (error as { cause?: { code?: unknown; message?: unknown } }).cause;
}
