import { maxHeaderSize } from 'node:http';
import type { SwaggerTransform } from '@fastify/swagger';
import {
  ErrorBodySchema,
  EventStreamHeadersSchema,
  IDEMPOTENT_REPLAYED_HEADER,
  MAX_WAIT_SECONDS,
  PREFERENCE_APPLIED_HEADER,
  SUBMIT_HEADERS,
  SubmitHeadersSchema,
  TASK_ID_HEADER,
  TaskParamsSchema,
  type TSchema,
  WAIT_MAX_HEADER,
} from 'proxy-client/wire';
import { errorResponses, named } from '../schemas/route-schemas.js';

/**
 * What the OpenAPI document says about a route beyond the schemas it validates and serialises
 * with: descriptions of its answers and their headers, and the parts of a request the handler
 * reads itself (the submit headers, a body of any type), which no schema may validate. Applied
 * by @fastify/swagger to the document only (`config.swaggerTransform` of the route).
 */
export interface RouteDoc {
  /** The path in the document, when Fastify's (`/api/*`) reads badly there. */
  url?: string;
  params?: TSchema;
  headers?: TSchema;
  /** A request body the route takes as raw bytes, by media type. */
  body?: { description: string; mediaTypes: string[] };
  responses?: Record<string, ResponseDoc>;
  /**
   * Headers the route sets on every answer it sends, its errors included: on all its codes but
   * 417, 431 and, where the 4xx range is the proxy's error body, what that range leaves (408),
   * which the server writes before any route is reached.
   */
  everyAnswer?: Record<string, HeaderDoc>;
}

export interface ResponseDoc {
  description: string;
  headers?: Record<string, HeaderDoc>;
  /** Instead of the route's schema for this code: media types and their schemas. */
  content?: Record<string, { schema: object }>;
  /** A body schema for a code the route's schemas only cover by range (4xx, 5xx). */
  schema?: TSchema;
}

export interface HeaderDoc {
  type: 'string' | 'integer';
  description: string;
  /** Sent on every answer with this code, so that a generated client may count on it. */
  required?: true;
}

type DocumentedResponse = { description?: string; headers?: Record<string, HeaderDoc> };

/** The refusals Node's parser or the Expect check answer before any route is reached. */
const BEFORE_ROUTE = new Set(['417', '431']);

export function routeDoc(doc: RouteDoc): SwaggerTransform {
  return ({ schema, url, ...document }) => {
    const base = (schema ?? {}) as Record<string, unknown>;
    const response: Record<string, DocumentedResponse> = {
      ...((base.response as Record<string, object> | undefined) ?? {}),
    };
    for (const [code, { schema: body, ...extra }] of Object.entries(doc.responses ?? {})) {
      // Content of its own replaces the route's schema: left beside it, a $ref there (the
      // error body of 4xx and 5xx) wins in @fastify/swagger, and the content is dropped.
      const own = body ? named(body) : extra.content ? {} : (response[code] ?? {});
      response[code] = { ...own, ...extra };
    }
    // Where the 4xx range is the proxy's error body (on the result route it may be the target's
    // own answer instead), the codes the proxy answers on every route are spelt out.
    if (response['4xx'] === errorResponses['4xx']) {
      const security = 'openapiObject' in document ? document.openapiObject.security : undefined;
      const needsKey = ((base.security as unknown[] | undefined) ?? security ?? []).length > 0;
      for (const [code, refusal] of Object.entries(refusals(base, needsKey, doc.body))) {
        const own = response[code]?.description;
        response[code] = {
          ...response[code],
          ...refusal,
          ...(own !== undefined && { description: `${refusal.description}; ${own}` }),
        };
      }
    }
    // The 4xx range is what the proxy answers before a route is reached (408) only where it is
    // the proxy's error body; where it is the target's own answers, the route sends them all.
    const rangeBeforeRoute = response['4xx'] === errorResponses['4xx'];
    for (const [code, answer] of Object.entries(doc.everyAnswer ? response : {})) {
      if (BEFORE_ROUTE.has(code) || (code === '4xx' && rangeBeforeRoute)) continue;
      response[code] = { ...answer, headers: { ...doc.everyAnswer, ...answer.headers } };
    }
    const documented: Record<string, unknown> = { ...base, response };
    if (doc.params) documented.params = doc.params;
    if (doc.headers) documented.headers = doc.headers;
    if (doc.body) {
      documented.body = { description: doc.body.description };
      documented.consumes = doc.body.mediaTypes;
    }
    return { schema: documented, url: doc.url ?? url };
  };
}

const header = (description: string, type: HeaderDoc['type'] = 'string'): HeaderDoc => ({
  type,
  description,
});

/**
 * The proxy's own refusals of a request to the route with `schema`, each a code of its own: a
 * generated client tells them apart by code.
 */
function refusals(
  schema: Record<string, unknown>,
  needsKey: boolean,
  body: RouteDoc['body'],
): Record<string, DocumentedResponse> {
  const error = errorResponses['4xx'];
  const malformed =
    'bad_request: a malformed request (a Transfer-Encoding other than chunked, two Host headers...)';
  const badRequest = [
    body ? malformed : `${malformed} or a body, which the route does not take`,
    ...(schema.params === TaskParamsSchema ? ['invalid_task_id: {id} is not a UUID'] : []),
    ...(schema.querystring ? ['invalid_query: a query parameter the route refuses'] : []),
  ];
  return {
    400: { ...error, description: badRequest.join('; ') },
    ...(needsKey && {
      401: {
        ...error,
        description: 'unauthorized: no Authorization: Bearer <key>, or the wrong key (--api-key)',
        headers: { 'www-authenticate': header('Bearer') },
      },
    }),
    417: {
      ...error,
      description:
        'expectation_failed: an Expect other than 100-continue (answered before the route is reached)',
    },
    431: {
      ...error,
      description: `headers_too_large: the request line and headers are over ${maxHeaderSize / 1024} KiB (the proxy's NODE_OPTIONS=--max-http-header-size raises it); answered before the route is reached, and the connection closed`,
    },
  };
}

const TASK_NOT_FOUND = {
  description: 'task_not_found: no task with this id (it may have been cleaned up)',
  schema: ErrorBodySchema,
} satisfies ResponseDoc;

export const LOCATION: HeaderDoc = {
  ...header('/task/{id}: where the task is read'),
  required: true,
};
export const RETRY_AFTER = header('seconds to wait before trying again', 'integer');

const WAIT_MAX = header(
  `the longest ?wait= honoured, in seconds: the server's --max-wait (${MAX_WAIT_SECONDS} by default)`,
  'integer',
);
const PREFER_WAIT_MAX = header(
  `when Prefer asked for a wait (wait=0 too): the longest hold, in seconds (the server's --max-wait, ${MAX_WAIT_SECONDS} by default)`,
  'integer',
);

const submitted = {
  202: {
    description:
      'Task created (or, for a known Idempotency-Key with the same request, the task that has it)',
    headers: {
      location: LOCATION,
      [PREFERENCE_APPLIED_HEADER]: header('respond-async, when Prefer asked for it'),
      [IDEMPOTENT_REPLAYED_HEADER]: header('true: the Idempotency-Key named an existing task'),
      [WAIT_MAX_HEADER]: PREFER_WAIT_MAX,
    },
  },
  200: {
    description: `Prefer: wait=N (at most the server's --max-wait, ${MAX_WAIT_SECONDS} by default) and the task finished within N s, or had already finished (an Idempotency-Key replay, wait=0 too): the finished task`,
    headers: {
      location: LOCATION,
      [PREFERENCE_APPLIED_HEADER]: header('wait=N'),
      [IDEMPOTENT_REPLAYED_HEADER]: header('true: the Idempotency-Key named an existing task'),
      [WAIT_MAX_HEADER]: PREFER_WAIT_MAX,
    },
  },
  503: {
    description:
      'queue_full or tenant_queue_full (the task is not created) or store_unavailable, all with Retry-After (none for store_unavailable when the task file is damaged); shutting_down, with Retry-After and Connection: close',
    schema: ErrorBodySchema,
    headers: { 'retry-after': RETRY_AFTER },
  },
} satisfies Record<string, ResponseDoc>;

/** `ANY /api/*` as the document names it. */
export const SUBMIT_DOC_PATH = '/api/{path}';

/** `ANY /api/*`. */
export const submitDoc = routeDoc({
  url: SUBMIT_DOC_PATH,
  params: {
    type: 'object',
    required: ['path'],
    properties: {
      path: {
        type: 'string',
        description:
          'the rest of the path: the target gets /api/{path} (after its base path), query string included',
      },
    },
  } as unknown as TSchema,
  headers: SubmitHeadersSchema,
  body: {
    description:
      'any body, of any content type, up to --body-limit: forwarded byte for byte (none on TRACE)',
    // The first is what Swagger UI's "Try it out" sends (with */* alone, `Content-Type: */*`);
    // */* keeps any other type documented.
    mediaTypes: ['application/json', 'text/plain', 'application/octet-stream', '*/*'],
  },
  responses: {
    ...submitted,
    400: {
      description:
        'the path does not begin /api/ as sent or has a .. segment (encoded or not), a submit header out of its form or range (or sent twice), a body on TRACE; callback_not_allowed: X-Proxy-Callback-Url is not an absolute http(s) URL (empty, relative), carries credentials or a #fragment, or names an origin --callback-allow does not list',
    },
    413: {
      description: 'payload_too_large: the body is over --body-limit',
      schema: ErrorBodySchema,
    },
    422: {
      description: 'idempotency_key_reused: this Idempotency-Key was used with another request',
      schema: ErrorBodySchema,
    },
  },
});

/** What `OPTIONS /api/{path}` answers instead of a task: OpenAPI has no other place for it. */
export const PREFLIGHT_RESPONSE = {
  description:
    'A CORS preflight (Origin and Access-Control-Request-Method, the API key not needed): answered by the proxy, no task made. With --cors-origin, with the Access-Control-Allow-* headers for an allowed origin; without, with none, so the browser refuses the request',
} satisfies ResponseDoc;

/**
 * The query of `/api/{path}`, which the proxy forwards to the target as it was sent: any names,
 * any values, none read by the proxy. One free-form object, as OpenAPI 3 spells such a query.
 */
export const FORWARDED_QUERY = {
  name: 'query',
  in: 'query',
  required: false,
  description:
    'any query string: forwarded to the target as it was sent (the proxy reads none of it)',
  style: 'form',
  explode: true,
  schema: { type: 'object', additionalProperties: { type: 'string' } },
} as const;

/** `POST /task/:id/retry`. */
export const retryDoc = routeDoc({
  headers: {
    type: 'object',
    properties: { [SUBMIT_HEADERS.prefer]: SubmitHeadersSchema.properties[SUBMIT_HEADERS.prefer] },
  } as unknown as TSchema,
  responses: {
    ...submitted,
    400: {
      description:
        'callback_not_allowed: its callback URL is one --callback-allow no longer takes (no task is made)',
    },
    404: TASK_NOT_FOUND,
    409: {
      description: 'task_not_finished: only a finished task can be run again',
      schema: ErrorBodySchema,
    },
  },
});

/** `GET /task/:id`. */
export const taskDoc = routeDoc({
  responses: {
    200: {
      description:
        "The task; with ?wait=N, once it finished or N s passed (at most the server's --max-wait)",
      headers: {
        'retry-after': header(
          'while pending (with an estimate of its start): when reading again is worthwhile, in 1 to 30 s',
          'integer',
        ),
      },
    },
    404: TASK_NOT_FOUND,
  },
  everyAnswer: { [WAIT_MAX_HEADER]: WAIT_MAX },
});

/** `DELETE /task/:id`. */
export const cancelDoc = routeDoc({
  responses: {
    200: { description: 'The task, now cancelled' },
    404: TASK_NOT_FOUND,
    409: { description: 'task_finished: nothing to cancel', schema: ErrorBodySchema },
  },
});

const REPLAYED_TASK_ID = { [TASK_ID_HEADER]: header('the task this answer belongs to') };
/** Any media type, any bytes: what the target sent. */
const ANY_BODY = { '*/*': { schema: {} } };

/**
 * A status both the proxy and the target may answer with. The route replays the target's status as
 * it was, so a 404 may be the target's: the document must not promise the proxy's error shape.
 */
function proxyOrTarget(proxy: string): ResponseDoc {
  return {
    description: `${proxy} (JSON, {success: false, error, message}, without x-proxy-task-id); or the target's own answer with this status, replayed as it was sent (with x-proxy-task-id)`,
    headers: REPLAYED_TASK_ID,
    content: ANY_BODY,
  };
}

/** `GET /task/:id/result`. */
export const resultDoc = routeDoc({
  responses: {
    200: {
      description:
        "The target's 200 answer replayed as it was sent: its end-to-end headers and its body bytes. Any other status of the target is replayed as it was too: see the other codes",
      headers: REPLAYED_TASK_ID,
      content: ANY_BODY,
    },
    206: {
      description:
        "One byte range (Range: bytes=a-b, a- or -n, If-Range honoured) of a 200 answer, with its Content-Range; or the target's own 206 replayed as it was sent",
      headers: {
        ...REPLAYED_TASK_ID,
        'Content-Range': header('the span served and the whole size: bytes a-b/size'),
      },
      content: ANY_BODY,
    },
    416: {
      description:
        "The range starts past the end of the 200 answer (Content-Range: bytes */size, no body); or the target's own 416 replayed as it was sent",
      headers: {
        ...REPLAYED_TASK_ID,
        'Content-Range': header('bytes */size: the size of the whole answer'),
      },
      content: ANY_BODY,
    },
    404: proxyOrTarget(
      "The proxy's task_not_found, or no_result: the task ended without an answer from the target",
    ),
    409: proxyOrTarget("The proxy's task_not_finished (?wait=N waits for it)"),
    '4xx': proxyOrTarget("The proxy's own refusal (401 without the key, 400 for a bad ?wait)"),
    '5xx': proxyOrTarget("The proxy's own failure (503 store_unavailable)"),
    default: {
      description:
        "The target's answer with any other status (201, 204, 304, ...), replayed as it was sent",
      headers: REPLAYED_TASK_ID,
      content: ANY_BODY,
    },
  },
  everyAnswer: { [WAIT_MAX_HEADER]: WAIT_MAX },
});

const EVENT_STREAM = 'text/event-stream';

/** `GET /task/:id/events` (`ofTask`) and `GET /events`. */
export function eventStreamDoc(description: string, ofTask: boolean): SwaggerTransform {
  return routeDoc({
    headers: EventStreamHeadersSchema,
    responses: {
      400: { description: 'Last-Event-ID sent more than once' },
      ...(ofTask && {
        404: TASK_NOT_FOUND,
        204: {
          description:
            'Last-Event-ID: end, the id of the final message: the client has it all, and an EventSource stops reconnecting',
        },
      }),
      200: {
        description,
        content: {
          [EVENT_STREAM]: {
            schema: {
              type: 'string',
              description:
                'Server-Sent Events: `id:` (send it back as Last-Event-ID), `event:`, `data:` (a task as JSON); a comment line every 15 s (or every --max-wait seconds, when the server was started with less) keeps the stream open',
            },
          },
        },
      },
    },
  });
}

/** `GET /ui` and `GET /ui/:file`: the 404 says which file is missing, or that none was built. */
export const dashboardDoc = routeDoc({
  responses: {
    404: {
      description: 'not_found: no such file, or the dashboard was not built (pnpm build)',
      schema: ErrorBodySchema,
    },
  },
});

/** A route whose 200 answer needs only a description. */
export function answers(description: string): SwaggerTransform {
  return routeDoc({ responses: { 200: { description } } });
}
