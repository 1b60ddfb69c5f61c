import { isHTTPError, isTimeoutError, type RetryOptions } from 'ky';
import { isQueueFullCode } from '../errors/queue-full-error.js';
import { browserFailureCode, PREFLIGHT_REFUSED, STREAM_NEEDS_HTTP2 } from './browser-failure.js';
import { errorBodyJson } from './read-text.js';

/**
 * What the SDK retries, in one place (ky runs the loop, these options decide):
 *
 * | request                                   | retried on                                  | delay                          |
 * |-------------------------------------------|---------------------------------------------|--------------------------------|
 * | reads (GET, cleanup and cancel DELETEs)   | network errors, 5xx but a full queue        | ky's backoff 0.3 s, 0.6 s…     |
 * | submissions, with an idempotency key      | network errors, 5xx but a full queue        | ky's backoff, or `Retry-After` |
 * | submissions and retries of a task         | 503 `queue_full` or `tenant_queue_full`, only when asked | `Retry-After`, capped |
 *
 * A submission is only retried after a network error or a 5xx when it carries an
 * `Idempotency-Key` (the caller's, or one the SDK made for the call): the proxy then answers a
 * repeat with the task the first attempt created, so no retry can create a second task.
 * Nothing else is retried: not timeouts, not 4xx, not a port fetch refuses, not what a browser
 * refused to send or let read (a CORS refusal, a streamed body over HTTP/1.1), not
 * `POST /task/:id/retry`, which has no key.
 */

/**
 * Retries for idempotent reads. `isAnswer` marks error statuses that are data (a replayed
 * result keeps the target's 500): those are never retried.
 */
export function readRetry(
  limit: number,
  signal: AbortSignal | undefined,
  isAnswer?: (response: Response) => boolean,
): RetryOptions {
  return {
    limit,
    shouldRetry: async ({ error }) => {
      if (signal?.aborted || isTimeoutError(error)) return false;
      if (isHTTPError(error)) {
        const { response } = error;
        if (isAnswer?.(response)) return false;
        return response.status >= 500 && !isQueueFullCode(await envelopeCode(response));
      }
      return isNetworkError(error) && !isBlockedPort(error) && !browserFailureCode(error);
    },
  };
}

export interface SubmitRetrySettings {
  method: string;
  /** Resubmissions after 503 `queue_full`, whose task was certainly not created. */
  queueFullRetries: number;
  /** Resubmissions after a network error or another 5xx: only safe with an idempotency key. */
  otherRetries: number;
  maxRetryAfterMs: number;
  signal: AbortSignal | undefined;
}

/**
 * Retries for a submission: a full queue when asked, and, when the submission carries an
 * idempotency key, network errors and other 5xx answers. Each kind has its own count.
 */
export function submitRetry(settings: SubmitRetrySettings): RetryOptions {
  const { queueFullRetries, otherRetries, signal } = settings;
  let queueFull = 0;
  let other = 0;
  return {
    limit: queueFullRetries + otherRetries,
    methods: [settings.method.toLowerCase()],
    statusCodes: [503],
    afterStatusCodes: [503],
    maxRetryAfter: settings.maxRetryAfterMs,
    // `undefined` hands the decision back to ky, which waits exactly `Retry-After` (capped by
    // `maxRetryAfter`) without jitter, or its backoff without the header; `true` would make ky
    // ignore the header.
    shouldRetry: async ({ error }) => {
      if (signal?.aborted || isTimeoutError(error)) return false;
      if (isHTTPError(error)) {
        const { response } = error;
        if (response.status < 500) return false;
        if (response.status === 503 && isQueueFullCode(await envelopeCode(response))) {
          if (queueFull >= queueFullRetries) return false;
          queueFull += 1;
          return undefined;
        }
        if (other >= otherRetries) return false;
        other += 1;
        return response.status === 503 ? undefined : true;
      }
      if (!isNetworkError(error) || isBlockedPort(error) || browserFailureCode(error)) return false;
      if (other >= otherRetries) return false;
      other += 1;
      return true;
    },
  };
}

/** fetch rejects with a TypeError when no answer came (refused, DNS, reset, offline). */
export function isNetworkError(error: unknown): boolean {
  return error instanceof TypeError;
}

/** Causes by which a request never left: nothing reached the proxy, so no task came of it. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  STREAM_NEEDS_HTTP2,
  PREFLIGHT_REFUSED,
]);

/**
 * Whether a failed attempt certainly sent nothing: a refused connection, an unknown host, a
 * blocked port, a TLS handshake that failed. Anything else (a reset, a closed connection, a time
 * limit) may have left after the request arrived.
 */
export function sentNothing(error: unknown): boolean {
  if (isBlockedPort(error)) return true;
  let cause: unknown = (error as { cause?: unknown }).cause;
  for (let depth = 0; cause instanceof Error && depth < 5; depth++) {
    const code = 'code' in cause && typeof cause.code === 'string' ? cause.code : '';
    if (NOT_SENT.has(code) || /^ERR_(SSL|TLS)|CERT|SELF_SIGNED|UNABLE_TO/.test(code)) return true;
    cause = cause.cause;
  }
  return false;
}

/**
 * fetch keeps to the browsers' list of blocked ports (6000, 6667, 10080...): it sends nothing and
 * says only "bad port", and asking again never helps.
 */
export function isBlockedPort(error: unknown): boolean {
  return (
    isNetworkError(error) &&
    (error as { cause?: { message?: unknown } }).cause?.message === 'bad port'
  );
}

/** The Fetch standard's bad ports (https://fetch.spec.whatwg.org/#bad-port), as undici has them. */
const BAD_PORTS = new Set(
  [
    1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102,
    103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465,
    512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993,
    995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668,
    6669, 6679, 6697, 10080,
  ].map(String),
);

/**
 * A browser's fetch refuses a bad port with the same bare TypeError ("Failed to fetch") as any
 * other failure, so the port is all there is to tell it by. Marked like undici's refusal, the
 * retry policy and the error translation treat both alike: never retried, nothing sent.
 */
export function asBlockedPort(error: unknown, url: string): unknown {
  if (!isNetworkError(error) || isBlockedPort(error)) return error;
  const { port } = new URL(url);
  if (!BAD_PORTS.has(port)) return error;
  const cause = new Error('bad port', { cause: error });
  return new TypeError((error as TypeError).message, { cause });
}

async function envelopeCode(response: Response): Promise<string | undefined> {
  // A clone of a body already read would throw: no code to read then.
  if (response.bodyUsed) return undefined;
  const body = await errorBodyJson(response.clone());
  const code = (body as { error?: unknown } | null | undefined)?.error;
  return typeof code === 'string' ? code : undefined;
}
