import type { FastifyBaseLogger, FastifyError } from 'fastify';
import fp from 'fastify-plugin';
import type { ErrorCode } from 'proxy-client/wire';
import type { Clock } from '../clock.js';
import { isStoreUnavailableError } from '../engine/store-unavailable.js';
import { isProxyHttpError, sendError } from '../errors.js';
import { requestFields } from '../logging/logger.js';
import { quietLine } from '../proxy/quiet-line.js';
import { drainRefusedBody } from '../routes/drain-refused-body.js';
import { noRouteError } from '../routes/no-route.js';
import { queryAsSent, validationMessage } from './validation-message.js';

/** Seconds a client waits before trying again when the store failed: it usually comes back. */
const STORE_RETRY_AFTER_S = '5';

const VALIDATION_CODES: Record<string, ErrorCode> = {
  params: 'invalid_task_id',
  querystring: 'invalid_query',
};

/**
 * Every error leaves as the envelope: our own coded errors as they are, schema failures as
 * invalid_task_id / invalid_query / bad_request, a store that cannot be used as
 * store_unavailable, Fastify's own 4xx (bad content-length, body too large, ...) as bad_request
 * or payload_too_large, anything else as internal_error. A connection closed mid-request is the
 * client's doing (or --request-timeout's), not a failure of ours.
 */
export const errorHandling = fp<{ log: FastifyBaseLogger; clock: Clock }>(
  async (app, { log, clock }) => {
    // The store's failure has a line of its own; polling clients would add one per request. The
    // reason is the latest refusal's: a damaged file's says what to do, which the store's lacks.
    let reason = '';
    const storeRefusals = quietLine(clock, (refused) =>
      log.warn(
        { refused, reason },
        'requests answered 503 store_unavailable: the task store cannot be used',
      ),
    );
    app.setErrorHandler<FastifyError>((error, request, reply) => {
      if (isProxyHttpError(error)) {
        if (error.code === 'payload_too_large' && drainRefusedBody(request.raw)) {
          reply.removeHeader('connection');
        }
        return sendError(reply, error.code, error.message, error.headers);
      }
      if (isStoreUnavailableError(error)) {
        reason = error.message;
        storeRefusals();
        log.debug(
          { reqId: request.id, err: error, ...requestFields(request) },
          'task store unavailable',
        );
        return sendError(
          reply,
          'store_unavailable',
          error.message,
          error.lasting ? {} : { 'retry-after': STORE_RETRY_AFTER_S },
        );
      }
      if (error.validation) {
        const code = VALIDATION_CODES[error.validationContext ?? ''] ?? 'bad_request';
        if (code !== 'invalid_task_id') {
          const sent =
            error.validationContext === 'querystring' ? queryAsSent(request.raw.url) : undefined;
          const message = validationMessage(error.validation, error.validationContext, sent);
          return sendError(reply, code, message ?? error.message);
        }
        const { id } = request.params as { id?: string };
        return sendError(reply, code, `Task id '${id}' is not a UUID`);
      }
      if (error.code === 'ECONNRESET' && request.raw.socket?.destroyed) {
        log.debug(
          { reqId: request.id, ...requestFields(request) },
          'connection closed mid-request',
        );
        return sendError(reply, 'bad_request', 'The connection closed before the request was read');
      }
      const status = error.statusCode ?? 500;
      if (status === 413) return sendError(reply, 'payload_too_large', error.message);
      if (status >= 400 && status < 500) return sendError(reply, 'bad_request', error.message);
      log.error({ reqId: request.id, err: error, ...requestFields(request) }, 'request failed');
      return sendError(reply, 'internal_error');
    });
    app.setNotFoundHandler((request) => {
      throw noRouteError(request);
    });
  },
  { name: 'error-handling', fastify: '5.x' },
);
