import type { FastifyInstance } from 'fastify';
import { ProxyHttpError, sendError } from '../errors.js';
import { errorResponses, submitBodySchema, taskBodySchema } from '../schemas/wire-schemas.js';
import { originForm, staysUnderApi } from '../upstream/upstream-path.js';
import { readRawBody } from './raw-body.js';
import { answerSubmission } from './submit-answer.js';
import { idempotencyKeyOf, preferencesOf } from './submit-headers.js';

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
      schema: { response: { 200: taskBodySchema, 202: submitBodySchema, ...errorResponses } },
      // Before the body is read: the path alone decides.
      onRequest: (request, reply, done) => {
        if (staysUnderApi(originForm(request.url))) return done();
        sendError(reply, 'bad_request', 'The path leaves /api/ once decoded and normalised');
      },
    },
    async (request, reply) => {
      const { headers } = request;
      const preferences = preferencesOf(headers.prefer);
      const submitted = await app.proxy.admission.submit({
        method: request.method,
        path: originForm(request.url),
        rawHeaders: request.raw.rawHeaders,
        body: request.body ?? null,
        idempotencyKey: idempotencyKeyOf(headers['idempotency-key'], app.proxy.config.apiKey),
        headers,
      });
      return answerSubmission(app, reply, submitted, preferences);
    },
  );
}
