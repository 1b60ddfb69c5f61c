import type { FastifyInstance } from 'fastify';
import type { SubmitBody } from 'proxy-client/wire';
import { ProxyHttpError, sendError } from '../errors.js';
import { errorResponses, submitBodySchema } from '../schemas/wire-schemas.js';
import { originForm, staysUnderApi } from '../upstream/upstream-path.js';
import { readRawBody } from './raw-body.js';

/**
 * `ANY /api/*`: admits the request as a task and answers 202 at once. Bodies of any content type
 * (or none) and on any method are taken as raw bytes, so they reach the target exactly as sent;
 * only TRACE, which must have none (RFC 9110), is refused one.
 */
export async function submitRoutes(app: FastifyInstance): Promise<void> {
  const limitBytes = app.proxy.config.bodyLimitBytes;
  const tooLarge = () =>
    new ProxyHttpError('payload_too_large', `The request body is larger than ${limitBytes} bytes`);
  const traceBody = () => new ProxyHttpError('bad_request', 'A TRACE request must have no body');
  app.removeAllContentTypeParsers();
  // A pattern that matches every content type, not '*': Fastify caches the parser it finds per
  // content type for a pattern, while for '*' it parses the header again on every request.
  app.addContentTypeParser(/^/, (request, payload, done) =>
    request.method === 'TRACE'
      ? readRawBody(payload, 0, request.headers['content-length'], traceBody, done)
      : readRawBody(payload, limitBytes, request.headers['content-length'], tooLarge, done),
  );

  app.all<{ Body: Buffer[] | null }>(
    '/api/*',
    {
      schema: { response: { 202: submitBodySchema, ...errorResponses } },
      // Before the body is read: the path alone decides.
      onRequest: (request, reply, done) => {
        if (staysUnderApi(originForm(request.url))) return done();
        sendError(reply, 'bad_request', 'The path leaves /api/ once decoded and normalised');
      },
    },
    async (request, reply) => {
      const submitted = await app.proxy.admission.submit({
        method: request.method,
        path: originForm(request.url),
        rawHeaders: request.raw.rawHeaders,
        body: request.body ?? null,
      });
      if (!submitted.ok) {
        if (submitted.reason === 'shutting_down') return sendError(reply, 'shutting_down');
        if (submitted.reason === 'idempotency_conflict') {
          return sendError(reply, 'idempotency_key_reused');
        }
        const retryAfter = String(submitted.retryAfterS);
        return sendError(
          reply,
          'queue_full',
          `The queue is full (${app.proxy.config.maxQueueSize} tasks); retry in about ${retryAfter} s`,
          { 'retry-after': retryAfter },
        );
      }
      const statusUrl = `/task/${submitted.taskId}`;
      const answer: SubmitBody = {
        success: true,
        task_id: submitted.taskId,
        status: 'pending',
        message: 'Task created',
        data: { task_id: submitted.taskId, status_url: statusUrl },
      };
      return reply.code(202).header('location', statusUrl).send(answer);
    },
  );
}
