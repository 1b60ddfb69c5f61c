import { parseRetryAfterMs } from '../retry-after.js';
import { errorBodyJson } from '../transport/read-text.js';
import { httpStatusCode, isErrorCode } from './codes.js';
import { IdempotencyKeyReusedError } from './idempotency-key-reused-error.js';
import { NoResultError } from './no-result-error.js';
import { ProxyError } from './proxy-error.js';
import { ProxyResponseError } from './proxy-response-error.js';
import { isQueueFullCode, QueueFullError } from './queue-full-error.js';
import { requestLine } from './request-line.js';
import { TaskFinishedError } from './task-finished-error.js';
import { TaskNotFinishedError } from './task-not-finished-error.js';
import { TaskNotFoundError } from './task-not-found-error.js';
import { UnauthorizedError } from './unauthorized-error.js';

/** What the SDK asked for, so the error can name it. */
export interface FailedRequest {
  method: string;
  url: string;
  /** Set for requests about one task, so a not-found answer can say which. */
  taskId?: string;
  /** Whether the request carried an `Authorization` header, so a 401 can say what to fix. */
  apiKeySent?: boolean;
  /** The `Idempotency-Key` a submission carried, so a reused key can be named. */
  idempotencyKey?: string;
  /** Some attempt may have reached the proxy: it connected, or was answered, before failing. */
  mayHaveArrived?: boolean;
  /** What to do when the answer was lost but the request may have arrived (see `HttpRequest`). */
  lostAnswerNote?: string;
}

/**
 * The one place that maps a non-2xx answer to an error class: nothing else in the SDK branches on
 * status codes. Only a proxy-server's own envelope (`{success: false, error, message}` with a code
 * of the wire contract) counts as the proxy speaking; any other answer keeps its status as
 * `http_<status>`, so `code` is always an identifier and never someone else's sentence.
 */
export async function errorFromResponse(
  response: Response,
  request: FailedRequest,
  cause?: unknown,
): Promise<ProxyError> {
  const envelope = await readEnvelope(response);
  const { status, headers } = response;
  const where = `${requestLine(request.method, request.url)} answered ${status}`;
  const options = { status, headers, method: request.method, url: request.url, cause };
  const code = envelope && isErrorCode(envelope.error) ? envelope.error : undefined;

  if (status === 401 || code === 'unauthorized') {
    const message = envelope ? `${envelope.message} (${where})` : `${where}: unauthorized`;
    return new UnauthorizedError(message, { ...options, apiKeySent: request.apiKeySent ?? false });
  }
  if (isQueueFullCode(code)) {
    return new QueueFullError(
      `${envelope?.message} (${where})`,
      parseRetryAfterMs(headers.get('retry-after')),
      { ...options, code },
    );
  }
  if (code === 'task_not_found' || code === 'invalid_task_id') {
    return new TaskNotFoundError(request.taskId ?? '', `${envelope?.message} (${where})`, {
      ...options,
      code,
    });
  }
  const said = `${envelope?.message} (${where})`;
  const taskId = request.taskId ?? '';
  if (code === 'task_finished') return new TaskFinishedError(taskId, said, options);
  if (code === 'task_not_finished') return new TaskNotFinishedError(taskId, said, options);
  if (code === 'no_result') return new NoResultError(taskId, said, options);
  if (code === 'idempotency_key_reused') {
    return new IdempotencyKeyReusedError(request.idempotencyKey ?? '', said, options);
  }
  if (code !== undefined) {
    return new ProxyResponseError(code, said, options);
  }
  return new ProxyResponseError(
    httpStatusCode(status),
    describeForeign(where, envelope, response, request),
    options,
  );
}

/** An answer without a code this SDK knows: say what came back, and what to check. */
function describeForeign(
  where: string,
  envelope: Envelope | undefined,
  response: Response,
  request: FailedRequest,
): string {
  // A browser's fetch hides a redirect's status and Location ("opaqueredirect", status 0): of a
  // task's result, most likely the target's own redirect, replayed, which the task itself holds.
  if (response.type === 'opaqueredirect' && new URL(request.url).pathname.endsWith('/result')) {
    return `${where}, a redirect the browser hides from scripts, most likely the target's own answer: read it with getTask, whose result has its status_code and headers (Location among them)`;
  }
  if ((response.status >= 300 && response.status < 400) || response.type === 'opaqueredirect') {
    const location = response.headers.get('location');
    return `${where}, a redirect${location ? ` to ${location}` : ''}; the SDK follows none (a submission would lose its method and body): set baseUrl to the proxy's own URL`;
  }
  if (envelope) {
    // A proxy-server envelope with a code from a newer server: its message is still for people.
    const said = envelope.message === envelope.error ? '' : `: ${envelope.message}`;
    return `${where} with error ${JSON.stringify(envelope.error)}${said}`;
  }
  return `${where}, without a proxy-server error envelope; is the base URL a proxy-server?`;
}

interface Envelope {
  error: string;
  message: string;
}

/** The proxy's error envelope; anything else (`{error: "no such endpoint"}`, HTML) is not one. */
async function readEnvelope(response: Response): Promise<Envelope | undefined> {
  const body = await errorBodyJson(response);
  if (typeof body !== 'object' || body === null) return undefined;
  const { success, error, message } = body as Record<string, unknown>;
  if (success !== false || typeof error !== 'string') return undefined;
  return { error, message: typeof message === 'string' ? message : error };
}

/** The proxy answered 2xx with a body the SDK cannot read: wrong `baseUrl`, or not a proxy-server. */
export function invalidResponseError(
  request: FailedRequest & { headers?: Headers },
  why: string,
  cause?: unknown,
): ProxyError {
  return new ProxyError(
    'invalid_response',
    `${requestLine(request.method, request.url)}: unexpected answer (${why}); is this a proxy-server?`,
    {
      method: request.method,
      url: request.url,
      cause,
      ...(request.headers ? { headers: request.headers } : {}),
    },
  );
}
