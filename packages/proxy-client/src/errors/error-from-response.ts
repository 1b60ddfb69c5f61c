import { parseRetryAfter } from '../retry-after.js';
import { ProxyError } from './proxy-error.js';
import { ProxyResponseError } from './proxy-response-error.js';
import { QueueFullError } from './queue-full-error.js';
import { TaskNotFoundError } from './task-not-found-error.js';
import { UnauthorizedError } from './unauthorized-error.js';

/** What the SDK asked for, so the error can name it. */
export interface FailedRequest {
  method: string;
  url: string;
  /** Set for requests about one task, so a not-found answer can say which. */
  taskId?: string;
}

/**
 * The one place that maps a non-2xx answer of the proxy to an error class: nothing else in the SDK
 * branches on status codes. Reads the `{success: false, error, message}` envelope when there is one.
 */
export async function errorFromResponse(
  response: Response,
  request: FailedRequest,
  cause?: unknown,
): Promise<ProxyError> {
  const envelope = await readEnvelope(response);
  const status = response.status;
  const where = `${request.method} ${request.url} answered ${status}`;
  const message = envelope ? `${envelope.message} (${where})` : `The proxy's answer: ${where}`;
  const options = { status, method: request.method, url: request.url, cause };

  if (status === 401 || envelope?.error === 'unauthorized') {
    return new UnauthorizedError(message, options);
  }
  if (envelope?.error === 'queue_full') {
    return new QueueFullError(
      message,
      parseRetryAfter(response.headers.get('retry-after')),
      options,
    );
  }
  if (envelope?.error === 'task_not_found' || envelope?.error === 'invalid_task_id') {
    return new TaskNotFoundError(request.taskId ?? '', message, {
      ...options,
      code: envelope.error,
    });
  }
  return new ProxyResponseError(envelope?.error ?? `http_${status}`, message, options);
}

interface Envelope {
  error: string;
  message: string;
}

async function readEnvelope(response: Response): Promise<Envelope | undefined> {
  let body: unknown;
  try {
    body = JSON.parse(await response.text());
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const { error, message } = body as Record<string, unknown>;
  if (typeof error !== 'string') return undefined;
  return { error, message: typeof message === 'string' ? message : error };
}

/** The proxy answered 2xx with a body the SDK cannot read: wrong `baseUrl`, or not a proxy-server. */
export function invalidResponseError(
  request: FailedRequest,
  why: string,
  cause?: unknown,
): ProxyError {
  return new ProxyError(
    'invalid_response',
    `${request.method} ${request.url}: unexpected answer (${why}); is this a proxy-server?`,
    { method: request.method, url: request.url, cause },
  );
}
