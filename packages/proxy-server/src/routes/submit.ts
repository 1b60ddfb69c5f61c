import type { FastifyInstance } from 'fastify';
import { SUBMIT_HEADERS, SubmitBodySchema, TaskBodySchema } from 'proxy-client/wire';
import { bodyTooLarge, ProxyHttpError, sendError } from '../errors.js';
import { submitDoc } from '../openapi/route-docs.js';
import { errorResponses, named } from '../schemas/route-schemas.js';
import { withoutAuthorization } from '../upstream/request-headers.js';
import { originForm, PATH_NOT_UNDER_API, staysUnderApi } from '../upstream/upstream-path.js';
import { readRawBody } from './raw-body.js';
import { answerSubmission } from './submit-answer.js';
import { headersOf, idempotencyKeyOf, preferencesOf } from './submit-headers.js';
import { inItsTurn } from './turn-to-answer.js';

/**
 * A media type Fastify's parser accepts: `type/subtype`, parameters or not. It refuses any other
 * with 415, and a QUERY without one with 400, before a body parser runs.
 */
const MEDIA_TYPE = /^[\w!#$%&'*+.^`|~-]+\/[\w!#$%&'*+.^`|~-]+\s*(?:;|$)/;
/** What Fastify is shown instead; the target gets the header as sent (`rawHeaders`). */
const SHOWN_TO_FASTIFY = { 'content-type': 'application/octet-stream' };

/**
 * `ANY /api/*`: admits the request as a task and answers 202 at once. Bodies of any content type
 * (or none) and on any method are taken as raw bytes, so they reach the target exactly as sent;
 * only TRACE, which must have none (RFC 9110), is refused one. Every method Node parses is one
 * (`buildServer` adds those Fastify does not know).
 */
export async function submitRoutes(app: FastifyInstance): Promise<void> {
  const limitBytes = app.proxy.config.bodyLimitBytes;
  const keyed = app.proxy.config.apiKey !== null;
  const tooLarge = () => bodyTooLarge(limitBytes);
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
      schema: {
        summary: 'Submit a request for the target: 202 with a task id at once',
        description:
          'Any method: the eight listed here, and any other the HTTP parser knows (PURGE, PROPFIND, REPORT, ...), which OpenAPI cannot list. The method, path, query string, body bytes and end-to-end headers reach the target unchanged, later, when a slot is free; hop-by-hop headers, Host, and the headers below are not forwarded. Read the task at the Location.',
        tags: ['submit'],
        response: {
          200: named(TaskBodySchema),
          202: named(SubmitBodySchema),
          ...errorResponses,
        },
      },
      config: { swaggerTransform: submitDoc },
      preHandler: inItsTurn,
      // Before the body is read: the path alone decides.
      onRequest: (request, reply, done) => {
        if (!staysUnderApi(originForm(request.originalUrl))) {
          sendError(reply, 'bad_request', PATH_NOT_UNDER_API);
          return;
        }
        // Bodies are bytes, whatever their content type says, or whether there is one.
        const contentType = request.raw.headers['content-type'];
        if (
          contentType === undefined ? request.method === 'QUERY' : !MEDIA_TYPE.test(contentType)
        ) {
          request.headers = SHOWN_TO_FASTIFY;
        }
        done();
      },
    },
    async (request, reply) => {
      // Not `request.headers`, which may hold the content type shown to Fastify.
      const headers = headersOf(request.raw);
      const preferences = preferencesOf(
        headers[SUBMIT_HEADERS.prefer],
        app.proxy.config.maxWaitSeconds,
      );
      const submitted = await app.proxy.admission.submit({
        method: request.method,
        path: originForm(request.originalUrl),
        // The proxy's key is neither forwarded nor kept.
        rawHeaders: keyed ? withoutAuthorization(request.raw.rawHeaders) : request.raw.rawHeaders,
        body: request.body ?? null,
        idempotencyKey: idempotencyKeyOf(
          headers[SUBMIT_HEADERS.idempotencyKey],
          app.proxy.config.apiKey,
        ),
        requestId: request.id,
        headers,
        callerAddress: request.ip,
      });
      return answerSubmission(app, reply, submitted, preferences);
    },
  );
}
