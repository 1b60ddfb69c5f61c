import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

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

/**
 * Without --cors-origin, a preflight is answered 204 with no Access-Control-* header, so the
 * browser still refuses the request it asked about. Routed, it would be a submission on `/api/*`:
 * a task the target is called for, with an answer no browser reads, and one any page its user
 * visits could fill the queue with. Before auth, as with CORS: a preflight never has the key.
 */
export const preflightWithoutCors = fp(
  async (app) => {
    // A callback, not an async hook: it runs for every request, and needs no promise.
    app.addHook('onRequest', (request, reply, done) => {
      if (isPreflight(request)) reply.code(204).header('content-length', '0').send();
      else done();
    });
  },
  { name: 'preflight-without-cors', fastify: '5.x' },
);
