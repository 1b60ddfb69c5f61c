import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';
import type { ProxyConfig } from '../config/config.js';
import { errorResponses } from '../schemas/route-schemas.js';
import { VERSION } from '../version.js';
import { FORWARDED_QUERY, PREFLIGHT_RESPONSE, routeDoc, SUBMIT_DOC_PATH } from './route-docs.js';

/** Where the document and the browsable reference are served. */
export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PREFIX = '/docs';
/** Where the page reads the document (@fastify/swagger-ui's route; `yaml` beside it). */
const PAGE_DOCUMENT_PATH = `${DOCS_PREFIX}/json`;

const DOCS_CSP = [
  "default-src 'self'",
  "base-uri 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  // Swagger UI sets styles inline; scripts stay this origin's own.
  "style-src 'self' 'unsafe-inline'",
  "script-src 'self'",
  "object-src 'none'",
  "frame-ancestors 'self'",
].join('; ');

const submitOperationId = (method: string) =>
  `submitTask${method.charAt(0).toUpperCase()}${method.slice(1)}`;

const OPERATIONS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
/** What an OpenAPI 3.1 path item may hold besides x- extensions. */
const PATH_ITEM_FIELDS = new Set([
  ...OPERATIONS,
  ...['$ref', 'summary', 'description', 'servers', 'parameters'],
]);

const DESCRIPTION = `An async queueing proxy for slow HTTP services. \`ANY /api/*\` answers at once with a task id
(202) and forwards the request to the target later, under a cap on concurrent calls and a bounded
queue; the task's status and the target's answer are read back from \`/task/{id}\`.

Every answer is JSON with \`success: true|false\`; errors are \`{success: false, error: <code>,
message}\`. With \`--api-key\`, every route but \`/health\` (and what \`--public-docs\` and
\`--public-metrics\` open) needs \`Authorization: Bearer <key>\`.`;

/**
 * The OpenAPI 3.1 document, generated from the routes' schemas by @fastify/swagger (so it is the
 * contract the routes validate and serialise with), at `GET /openapi.json`; and a browsable
 * reference of it at `/docs` (@fastify/swagger-ui, its assets served from the package: no CDN).
 * Register before the routes: the document collects them as they are added.
 */
export const openapi = fp<{ config: ProxyConfig }>(
  async (app, { config }) => {
    const secured = config.apiKey !== null;
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'proxy-server',
          version: VERSION,
          description: DESCRIPTION,
          license: { name: 'MIT', identifier: 'MIT' },
        },
        tags: [
          { name: 'submit', description: 'Submitting work: answered at once, forwarded later' },
          { name: 'tasks', description: 'Reading, waiting for, cancelling and retrying tasks' },
          { name: 'events', description: 'Server-Sent Events of task transitions' },
          { name: 'service', description: 'What the proxy is and how it is doing' },
          { name: 'operations', description: 'Metrics, this document, the dashboard' },
        ],
        // Without a key, said outright (no route needs credentials) rather than left unsaid.
        security: [],
        ...(secured && {
          components: {
            securitySchemes: {
              apiKey: {
                type: 'http',
                scheme: 'bearer',
                description: 'The key the proxy was started with (--api-key)',
              },
            },
          },
          security: [{ apiKey: [] }],
        }),
      },
      // The shared schemas (`app.addSchema`) named by their `$id` (Task, ErrorBody...) in
      // components.schemas, where the plugin would name them def-0, def-1...
      refResolver: { buildLocalReference: (json) => String(json.$id) },
      // What a route with no document of its own (metrics, this document) is given: its refusals.
      transform: routeDoc({}),
      transformObject: (document) =>
        'openapiObject' in document
          ? finish(document.openapiObject, config)
          : document.swaggerObject,
    });

    app.get(
      OPENAPI_PATH,
      {
        schema: {
          operationId: 'getOpenApiDocument',
          summary: 'This OpenAPI document',
          description: 'Generated from the routes and the schemas they validate and answer with.',
          tags: ['operations'],
          ...(config.publicDocs && { security: [] }),
          response: {
            200: {
              description: 'The OpenAPI 3.1 document of every route',
              content: { 'application/json': { schema: { type: 'object' } } },
            },
            // 401 without the key, unless --public-docs.
            ...errorResponses,
          },
        },
      },
      // Built once by @fastify/swagger and cached; only the server differs, by where it is read.
      async (request, reply) =>
        reply
          .type('application/json; charset=utf-8')
          .header('x-content-type-options', 'nosniff')
          .send(JSON.stringify(servedUnder(app.swagger(), request.publicPrefix, OPENAPI_PATH))),
    );

    await app.register(async (docs) => {
      // Served from the proxy's origin like the dashboard, so with the dashboard's nosniff: on
      // the plugin's static files too, which its uiHooks do not reach.
      docs.addHook('onRequest', async (_request, reply) => {
        reply.header('x-content-type-options', 'nosniff');
      });
      await docs.register(swaggerUi, {
        routePrefix: DOCS_PREFIX,
        // No validator badge: it would fetch from validator.swagger.io; the page works offline.
        uiConfig: {
          docExpansion: 'list',
          deepLinking: true,
          defaultModelsExpandDepth: 0,
          validatorUrl: null,
        },
        // Everything from this origin. The plugin's own policy also upgrades requests to https,
        // which would break the page on a plain-http proxy.
        staticCSP: DOCS_CSP,
        // Its "Try it out" calls the document's server: under the gateway's prefix too.
        transformSpecification: (document, request) =>
          servedUnder(document, request.publicPrefix, PAGE_DOCUMENT_PATH),
        transformSpecificationClone: false,
        uiHooks: {
          onRequest: (request, reply, done) => {
            const page = pageUnderItsSlash(request.url);
            if (page !== undefined) {
              reply.redirect(page);
              return;
            }
            done();
          },
        },
      });
    });
  },
  { name: 'openapi', fastify: '5.x' },
);

/**
 * Where the reference page is to be read: `/docs/`, without a query. Its assets are addressed
 * relative to `/docs/` (`./static/...`), but from `/docs` as `/docs/static/...`, which behind a
 * gateway's path prefix leaves the prefix out: a blank page. And Swagger UI finds the document by
 * appending `/json` to the page's address, query and all: `/docs?utm_source=x` loaded
 * `/docs?utm_source=x/json`, the page itself, and showed nothing. Relative, so that behind a
 * prefix (`/proxy/docs`) the page stays under it.
 */
function pageUnderItsSlash(url: string): string | undefined {
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  if (path === DOCS_PREFIX) return `${DOCS_PREFIX.slice(DOCS_PREFIX.lastIndexOf('/') + 1)}/`;
  return path === `${DOCS_PREFIX}/` && queryAt !== -1 ? './' : undefined;
}

/**
 * The document read at `path`, with the proxy's root as its server, for generators and "Try it
 * out": the prefix a trusted gateway gave; else relative to `path` (`.` from /openapi.json, `..`
 * from /docs/json), which OpenAPI resolves against the address the document was read from.
 * `/` would be the root of whatever host served it: behind a gateway that mounts the proxy under
 * /proxy without --trust-proxy, the page's "Try it out" called the gateway's /health, not
 * /proxy/health. No trailing slash: linters (Redocly's no-server-trailing-slash) refuse one.
 */
function servedUnder<T extends object>(document: T, prefix: string, path: string): T {
  if (prefix !== '') {
    return {
      ...document,
      servers: [{ url: prefix, description: 'This proxy, behind its gateway' }],
    };
  }
  const depth = path.split('/').length - 2;
  const root = depth === 0 ? '.' : Array.from({ length: depth }, () => '..').join('/');
  return { ...document, servers: [{ url: root, description: 'This proxy' }] };
}

type Header = { schema?: { required?: unknown }; required?: boolean };
type Response = { description?: string; content?: unknown; headers?: Record<string, Header> };
type Operation = {
  operationId?: string;
  parameters?: unknown[];
  requestBody?: { required?: boolean };
  responses?: Record<string, Response>;
};

/**
 * A copy of the shared operation of `/api/*` for `method`, with the query it forwards; which
 * OPTIONS answers a preflight, and HEAD with no body, whatever the code.
 */
function submitOperation(method: string, operation: Operation): Operation {
  const own = {
    ...operation,
    operationId: submitOperationId(method),
    parameters: [...(operation.parameters ?? []), FORWARDED_QUERY],
  };
  if (method === 'head') {
    const bodiless = Object.entries(operation.responses ?? {}).map(
      ([code, { content: _, ...response }]) => [code, response],
    );
    return { ...own, responses: Object.fromEntries(bodiless) };
  }
  if (method !== 'options') return own;
  return { ...own, responses: { ...operation.responses, 204: PREFLIGHT_RESPONSE } };
}

/**
 * `response` with its headers' `required: true` on the headers: @fastify/swagger puts all of a
 * header's declaration but its description in its schema, where `required` lists properties.
 */
function withRequiredHeaders(response: Response): Response {
  if (response.headers === undefined) return response;
  const headers = Object.entries(response.headers).map(([name, header]) => {
    if (header.schema?.required !== true) return [name, header];
    const { required: _, ...schema } = header.schema;
    return [name, { ...header, required: true, schema }];
  });
  return { ...response, headers: Object.fromEntries(headers) };
}

/**
 * What the routes cannot say themselves: `ANY /api/*` takes Fastify's every method (PROPFIND,
 * ...) where an OpenAPI path item has eight, and a body only if the caller sends one, and its
 * one schema cannot give each method the operation id of its own that generated clients name
 * their functions by (`submitTaskPost`), nor OPTIONS the 204 a preflight gets instead of a task,
 * nor HEAD its answers without a body, nor declare the query it forwards without reading it; a
 * header's `required` needs moving out of its schema; the reference page at /docs is served by
 * @fastify/swagger-ui, whose routes stay out of the document.
 */
function finish<T extends { paths?: object }>(document: T, config: ProxyConfig): T {
  const paths = (document.paths ?? {}) as Record<string, Record<string, Operation> | undefined>;
  for (const [path, item] of Object.entries(paths)) {
    paths[path] = Object.fromEntries(
      Object.entries(item ?? {})
        .filter(([key]) => PATH_ITEM_FIELDS.has(key) || key.startsWith('x-'))
        .map(([key, value]) =>
          // Every method of /api/* shares one operation object: each gets a copy with its own id.
          path === SUBMIT_DOC_PATH && OPERATIONS.has(key)
            ? [key, submitOperation(key, value)]
            : [key, value],
        ),
    );
    for (const operation of Object.values(paths[path] ?? {})) {
      if (operation.requestBody) operation.requestBody.required = false;
      if (operation.responses === undefined) continue;
      operation.responses = Object.fromEntries(
        Object.entries(operation.responses).map(([code, r]) => [code, withRequiredHeaders(r)]),
      );
    }
  }
  // The same refusals as the document's own (401 without the key).
  const refusals = Object.fromEntries(
    Object.entries(paths[OPENAPI_PATH]?.['get']?.responses ?? {}).filter(([code]) =>
      /^[45]/.test(code),
    ),
  );
  paths[DOCS_PREFIX] = {
    get: {
      operationId: 'openApiReference',
      summary: 'Where this API reference is: /docs/',
      tags: ['operations'],
      ...(config.publicDocs && { security: [] }),
      responses: {
        302: {
          description: "To docs/ (relative, so that it stays under a gateway's path prefix)",
          headers: {
            location: { required: true, schema: { type: 'string', const: 'docs/' } },
          },
        },
        ...refusals,
      },
    } as Operation,
  };
  paths[`${DOCS_PREFIX}/`] = {
    get: {
      operationId: 'getApiReference',
      summary: 'This API reference, to read in a browser',
      tags: ['operations'],
      ...(config.publicDocs && { security: [] }),
      responses: {
        200: {
          description: 'An HTML page (Swagger UI) rendering /openapi.json',
          content: { 'text/html': { schema: { type: 'string' } } },
        },
        302: {
          description:
            'With a query: to ./, the page without it (Swagger UI would look for the document at the address with /json after the query)',
          headers: { location: { required: true, schema: { type: 'string', const: './' } } },
        },
        ...refusals,
      },
    } as Operation,
  };
  return document;
}
