import type { FailedRequest } from '../errors/error-from-response.js';
import { isProxyError, ProxyError } from '../errors/proxy-error.js';
import { requestLine } from '../errors/request-line.js';

/**
 * A replayed answer whose body fetch could not decode by its `Content-Encoding` is the target's
 * answer as it sent it, not a sign of a wrong `baseUrl`: said so, with where the bytes can be
 * read instead. Any other error is returned as it is.
 */
export function undecodableResultError(
  error: unknown,
  request: FailedRequest & { headers: Headers },
): unknown {
  const encoding = request.headers.get('content-encoding');
  if (!isProxyError(error) || error.code !== 'invalid_response' || encoding === null) return error;
  const why = (error.cause as { cause?: { message?: unknown } } | undefined)?.cause?.message;
  return new ProxyError(
    'invalid_response',
    `${requestLine(request.method, request.url)}: fetch decodes a replayed body by its Content-Encoding, ` +
      `and the target's (${encoding}) does not decode${typeof why === 'string' ? ` (${why})` : ''}: ` +
      'getTask has the body as the target sent it, in result.body',
    { method: request.method, url: request.url, headers: request.headers, cause: error },
  );
}
