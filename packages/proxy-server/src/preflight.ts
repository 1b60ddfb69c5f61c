import type { FastifyRequest } from 'fastify';

/**
 * A browser's CORS preflight: OPTIONS with Origin and Access-Control-Request-Method. Any other
 * OPTIONS is a request of its own (on `/api/*`, a submission).
 */
export function isPreflight({ method, headers }: FastifyRequest): boolean {
  return (
    method === 'OPTIONS' &&
    headers.origin !== undefined &&
    headers['access-control-request-method'] !== undefined
  );
}
