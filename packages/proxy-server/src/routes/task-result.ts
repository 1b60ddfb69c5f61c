import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  isTerminalStatus,
  TASK_ID_HEADER,
  TaskParamsSchema,
  TaskQuerySchema,
  WAIT_MAX_HEADER,
} from 'proxy-client/wire';
import { ProxyHttpError } from '../errors.js';
import { resultDoc } from '../openapi/route-docs.js';
import { errorResponses } from '../schemas/route-schemas.js';
import { HOP_BY_HOP } from '../upstream/hop-by-hop.js';
import { byteRangeOf, ifRangeHolds } from './byte-range.js';
import { clientGone } from './client-gone.js';
import { addVary } from './vary.js';
import { nameMaxWait } from './wait-max-header.js';

interface ResultRoute {
  Params: { id: string };
  Querystring: { wait?: number };
}

/**
 * Headers of the target's answer that described its connection or its framing: the proxy's own
 * connection and framing replace them. Results stored now keep no hop-by-hop header; older ones
 * may. And those that would act on the proxy's own origin, where the dashboard and its key live,
 * and other services on its host: set cookies there, wipe its storage (`Clear-Site-Data`), pin
 * it to HTTPS, open it to other origins (CORS, which is the proxy's to configure), have the
 * browser ask for a password in its name and send it there from then on (a `WWW-Authenticate`
 * challenge on a 401), widen a service worker's scope to all of it, or send it elsewhere
 * (`Refresh`). They stay in the task's `result.headers`.
 */
const NOT_REPLAYED = new Set([
  ...HOP_BY_HOP,
  'content-length',
  'set-cookie',
  'clear-site-data',
  'strict-transport-security',
  'www-authenticate',
  'service-worker-allowed',
  'refresh',
  // The proxy's own, set on every answer of this route.
  TASK_ID_HEADER,
  WAIT_MAX_HEADER,
]);
/**
 * What tells caches whether to keep an answer: Cache-Control, and what CDNs and nginx's cache
 * read before it.
 */
const SHARED_CACHING =
  /^(?:cache-control|surrogate-control|edge-control|x-accel-expires|(?:[a-z0-9-]+-)?cdn-cache-control)$/;
const replayed = (name: string) => !NOT_REPLAYED.has(name) && !name.startsWith('access-control-');

/** With --cors-origin (CORS has named what it exposes), `names` too, for pages to read. */
function exposeToPages(reply: FastifyReply, names: readonly string[]): void {
  const exposed = reply.getHeader('access-control-expose-headers');
  if (typeof exposed === 'string' && names.length > 0) {
    reply.header('access-control-expose-headers', [exposed, ...names].join(', '));
  }
}

/**
 * `GET /task/:id/result[?wait=N]`: the target's answer replayed as it was sent (status code,
 * end-to-end headers, body bytes), for big or binary results that JSON would only inflate; with
 * a sandbox CSP and nosniff added, since it is served from the proxy's origin.
 */
export async function taskResultRoutes(app: FastifyInstance): Promise<void> {
  const keyed = app.proxy.config.apiKey !== null;
  app.get<ResultRoute>(
    '/task/:id/result',
    {
      schema: {
        operationId: 'getResult',
        summary: "The target's answer, replayed as it was sent",
        description:
          'For big or binary results that JSON would only inflate. ?wait=N waits for the task to finish, like GET /task/{id}.',
        tags: ['tasks'],
        params: TaskParamsSchema,
        querystring: TaskQuerySchema,
        response: errorResponses,
      },
      config: { swaggerTransform: resultDoc },
      onSend: async (_request, reply) => nameMaxWait(app, reply),
    },
    async (request, reply) => {
      const { backend } = app.proxy;
      const id = request.params.id.toLowerCase();
      const waitMs = Math.min(request.query.wait ?? 0, app.proxy.config.maxWaitSeconds) * 1000;
      let task = await backend.get(id);
      if (task && waitMs > 0 && !isTerminalStatus(task.status)) {
        const view = await app.proxy.tasks.waitForFinish(id, waitMs, clientGone(reply.raw));
        task = view && isTerminalStatus(view.status) ? await backend.get(id) : task;
      }
      if (!task) {
        throw new ProxyHttpError('task_not_found', `No task ${id} (it may have been cleaned up)`);
      }
      if (!isTerminalStatus(task.status)) {
        throw new ProxyHttpError(
          'task_not_finished',
          `Task ${id} is ${task.status}; its result exists once it has finished`,
        );
      }
      const { result } = task;
      if (!result) {
        throw new ProxyHttpError(
          'no_result',
          `Task ${id} ended ${task.status}${task.error && task.error.code !== task.status ? ` (${task.error.code})` : ''} without an answer from the target`,
        );
      }
      const names = Object.keys(result.headers).filter(
        (name) => replayed(name) && !(keyed && SHARED_CACHING.test(name)),
      );
      for (const name of names) {
        if (name === 'vary') addVary(reply, result.headers[name] ?? []);
        else reply.header(name, result.headers[name]);
      }
      // Behind the key, a result is its caller's: a target's `public` would let a shared cache
      // in front of the proxy keep it and serve it to anyone with the URL (and a CDN reads its
      // own headers before Cache-Control).
      if (keyed) reply.header('cache-control', 'private, no-store');
      // With --cors-origin, a page on another origin reads the replayed headers too, not only the
      // CORS-safelisted ones (ETag, Content-Disposition, a target's request id...).
      exposeToPages(reply, names);
      // The target's answer on the proxy's origin, where the dashboard and its key live: a
      // browser opening it may show it but not run its scripts there (a CSP of the target's own
      // still applies beside the sandbox), nor guess an active type for it.
      const theirs = result.headers['content-security-policy'] ?? [];
      reply.header('content-security-policy', [
        ...(Array.isArray(theirs) ? theirs : [theirs]),
        'sandbox',
      ]);
      reply.header('x-content-type-options', 'nosniff');
      // Set on Node's response, not with reply.code(): Fastify takes 100–599 only, and a target
      // may answer with any three digits (a 600 or a 999 is kept and replayed as sent).
      reply.raw.statusCode = result.statusCode;
      reply.header(TASK_ID_HEADER, id);
      if (result.statusCode === 304) {
        // No body, and nothing said of one but what the target said: sent a Buffer (or nothing,
        // on HEAD), Fastify would add Content-Length: 0, and a Content-Type, which a cache
        // revalidating with this answer takes as the resource's own. To a stream it adds
        // neither. A 304's Content-Length is the length of the 200 it stands for (RFC 9110
        // §8.6), so the target's is replayed.
        const length = result.headers['content-length'];
        if (length !== undefined) reply.header('content-length', length);
        return reply.send(Readable.from([]));
      }
      const body = typeof result.body === 'string' ? Buffer.from(result.body, 'utf8') : result.body;
      // One byte range of a 200, so that a big result's download resumes (`curl -C -`): the
      // stored answer never changes, and If-Range holds it to the target's ETag or date. An
      // empty body (or a HEAD's, which is not the resource) is served whole, as is the answer
      // of a target that said it takes no ranges.
      const range =
        result.statusCode === 200 &&
        body.length > 0 &&
        task.method !== 'HEAD' &&
        result.headers['accept-ranges'] !== 'none' &&
        ifRangeHolds(request.headers['if-range'], result.headers)
          ? byteRangeOf(request.headers.range, body.length)
          : null;
      if (range === 'unsatisfiable') {
        reply.raw.statusCode = 416;
        reply.header('content-range', `bytes */${body.length}`);
        exposeToPages(reply, ['content-range']);
        return reply.send(Buffer.alloc(0));
      }
      if (range !== null) {
        reply.raw.statusCode = 206;
        reply.header('content-range', `bytes ${range.start}-${range.end}/${body.length}`);
        exposeToPages(reply, ['content-range']);
        return reply.send(body.subarray(range.start, range.end + 1));
      }
      return reply.send(body);
    },
  );
}
