import type { FastifyInstance, FastifyReply } from 'fastify';
import { WAIT_MAX_HEADER } from 'proxy-client/wire';

/**
 * Names `--max-wait` on an answer that may have been held: a client (the SDK) asks no longer
 * hold than this, and a caller whose hold came back short learns why.
 */
export function nameMaxWait(app: FastifyInstance, reply: FastifyReply): void {
  reply.header(WAIT_MAX_HEADER, String(app.proxy.config.maxWaitSeconds));
}
