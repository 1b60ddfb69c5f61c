import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { takesNoBody } from '../errors.js';
import { noRouteError } from './no-route.js';

/**
 * The body parser of every route but `/api/*`: none of them needs a body, so a non-empty one is
 * refused unread when its length is declared, at its first chunk when not; on an unknown route,
 * with the 404 or 405 it gets anyway. Refusing closes the connection, rather than draining the
 * rest.
 */
export function refuseBody(
  request: FastifyRequest,
  payload: Readable,
  done: (error: Error | null, body?: undefined) => void,
): void {
  const refusal = () =>
    request.is404
      ? noRouteError(request)
      : takesNoBody(request.method, request.routeOptions.url ?? request.url);
  readRawBody(payload, 0, request.headers['content-length'], refusal, (error) => done(error));
}

/**
 * Collects a request body as the socket delivered it, without the copy Fastify's own raw-body
 * parser makes (the chunks are turned into the task's binary string once, when it is queued), or
 * fails with `tooLarge()` as soon as it passes `limitBytes`. Gives null for an empty body.
 */
export function readRawBody(
  stream: Readable,
  limitBytes: number,
  declaredLength: string | undefined,
  tooLarge: () => Error,
  done: (error: Error | null, body?: Buffer[] | null) => void,
): void {
  if (declaredLength !== undefined && Number(declaredLength) > limitBytes) {
    done(tooLarge());
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  // Settled once; the listeners of a body read to its end stay on the spent stream rather than
  // being taken off one by one (a third of this function's cost per submission).
  let settled = false;
  const settle = (error: Error | null, body?: Buffer[] | null) => {
    if (settled) return;
    settled = true;
    done(error, body);
  };
  const onData = (chunk: Buffer) => {
    if (settled) return;
    size += chunk.length;
    if (size > limitBytes) {
      stream.off('data', onData);
      settle(tooLarge());
      return;
    }
    chunks.push(chunk);
  };
  const onEnd = () => settle(null, size === 0 ? null : chunks);
  const onError = (error: Error) => settle(error);
  stream.on('data', onData);
  stream.on('end', onEnd);
  stream.on('error', onError);
}
