import { type IncomingMessage, METHODS, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import cors, { type FastifyCorsOptions } from '@fastify/cors';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import {
  type ErrorCode,
  IDEMPOTENT_REPLAYED_HEADER,
  PREFERENCE_APPLIED_HEADER,
  TASK_ID_HEADER,
  WAIT_MAX_HEADER,
} from 'proxy-client/wire';
import { systemClock } from './clock.js';
import type { ProxyConfig } from './config/config.js';
import {
  bodyTooLarge,
  errorBody,
  ProxyHttpError,
  sendError,
  statusOf,
  takesNoBody,
} from './errors.js';
import { createLogger, type LogStream } from './logging/logger.js';
import { type ParseError, parseRefusal } from './malformed-request.js';
import { DOCS_PREFIX, OPENAPI_PATH, openapi } from './openapi/openapi.js';
import { auth, bearerKeyCheck, UNAUTHORIZED_HEADERS } from './plugins/auth.js';
import { decimalQuery } from './plugins/decimal-query.js';
import { errorHandling } from './plugins/error-handling.js';
import { forwardedPrefix, trustFunction } from './plugins/forwarded-prefix.js';
import { proxyState } from './plugins/proxy-state.js';
import { unreadAnswers } from './plugins/unread-answers.js';
import { unusedConnections } from './plugins/unused-connections.js';
import type { ProxyDeps } from './proxy/proxy.js';
import type { ShutdownReport } from './proxy/stop-tally.js';
import { asksAboutServer, requestLineRefusal } from './request-line.js';
import { drainRefusedBody, isDrainingRefusedBody } from './routes/drain-refused-body.js';
import { eventRoutes } from './routes/events.js';
import { metricsRoutes } from './routes/metrics.js';
import { refuseBody } from './routes/raw-body.js';
import { routableUrl } from './routes/routable-url.js';
import { isOwnRoute, type OwnRoute, routeHints } from './routes/route-hint.js';
import { serviceRoutes } from './routes/service.js';
import { submitRoutes } from './routes/submit.js';
import { taskRoutes } from './routes/task.js';
import { taskControlRoutes } from './routes/task-control.js';
import { taskResultRoutes } from './routes/task-result.js';
import { tasksRoutes } from './routes/tasks.js';
import { sharedSchemas } from './schemas/route-schemas.js';
import { UI_PATH, uiRoutes } from './ui/ui-routes.js';
import { originForm, PATH_NOT_UNDER_API, staysUnderApi } from './upstream/upstream-path.js';

export interface ServerDeps extends ProxyDeps {
  /** Where log lines go instead of stdout (one JSON object per line). */
  logStream?: LogStream;
}

const CORS_EXPOSED_HEADERS = [
  'location',
  'retry-after',
  WAIT_MAX_HEADER,
  PREFERENCE_APPLIED_HEADER,
  IDEMPOTENT_REPLAYED_HEADER,
  TASK_ID_HEADER,
  // On a 405 and a 401: what a page needs to tell its user why.
  'allow',
  'www-authenticate',
];
/**
 * How long a browser may keep a preflight's answer, in seconds. Chromium's default of 5 s has a
 * polling page, which sends the key, preflight nearly every read; 10 minutes still lets a changed
 * --cors-origin reach pages soon.
 */
const CORS_MAX_AGE_SECONDS = 600;
/**
 * Submissions take any method, so a browser may preflight any of them: all that Node parses but
 * CONNECT and TRACE, which browsers never send.
 */
const CORS_METHODS = METHODS.filter((method) => method !== 'CONNECT' && method !== 'TRACE');
/** Every method Node parses but CONNECT (`refuseTunnel`): `/api/*` submits any of them. */
const SERVED_METHODS = METHODS.filter((method) => method !== 'CONNECT');
/**
 * With --cors-origin, what a refusal answered before the headers were read carries. The Origin is
 * unknown then, so no listed origin can be echoed; `*` lets any page read it, which leaks
 * nothing: the body only says what was wrong with the page's own request, and without
 * Access-Control-Allow-Credentials no cookie-bearing request is let read either.
 */
const UNPARSED_CORS_HEADERS = 'Access-Control-Allow-Origin: *\r\n';

/**
 * The proxy as a Fastify instance, ready for `inject` or `listen`; it never listens by itself.
 * Closing it cuts calls in flight off at once; `shutdownServer` gives them time to finish.
 */
export function buildServer(config: ProxyConfig, deps: ServerDeps = {}): FastifyInstance {
  const log: FastifyBaseLogger = createLogger(config.logLevel, deps.logStream);
  // The proxy logs one line per task transition through `log`. Fastify itself only gets the
  // logger at debug and trace, to log each request: given any logger, it adds response listeners
  // and a logger per request, about a tenth of the cost of a submission, even with request
  // logging disabled.
  const logsRequests = config.logLevel === 'debug' || config.logLevel === 'trace';
  const trust = config.trustProxy && trustFunction(config.trustProxy);
  const app = Fastify({
    ...(logsRequests ? { loggerInstance: log } : { logger: false }),
    // request.ip, in the log: the caller's address from X-Forwarded-For, as far as gateways pass it.
    ...(trust && { trustProxy: trust }),
    // Headers and body alike: a client that stalls mid-body would otherwise keep its socket and
    // the bytes buffered so far for as long as it likes. Fastify sets it on the server after Node
    // built it, too late for Node to bound the headers timeout by it (then bodies get 60 s), so
    // Node is given it as well.
    requestTimeout: config.requestTimeoutMs,
    http: {
      requestTimeout: config.requestTimeoutMs,
      // Node looks for overdue requests every 30 s by default, letting one run up to 30 s over.
      connectionsCheckingInterval: Math.min(1_000, Math.ceil(config.requestTimeoutMs / 10)),
      // Node would answer a missing Host with a bare 400 and no body: the hook below refuses it.
      requireHostHeader: false,
    },
    clientErrorHandler: (error, socket) =>
      answerClientError(error, socket, log, config.corsOrigins ? UNPARSED_CORS_HEADERS : ''),
    rewriteUrl: routableUrl,
    frameworkErrors: (error, request, reply) =>
      // A path parameter too long for the router: a task id, then no UUID either, or a dashboard
      // file, then none there is. The router's message would echo the whole path.
      error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? request.url.startsWith(`${UI_PATH}/`)
          ? sendError(reply, 'not_found')
          : sendError(
              reply,
              'invalid_task_id',
              'The task id is not a UUID: it is over 100 characters',
            )
        : sendError(reply, 'bad_request', error.message),
    // Ajv coerces a query's "Infinity" or "1e400" to a number that, with strict numbers, skips
    // minimum and maximum; without, every bounded number is checked, and every query number is.
    ajv: { customOptions: { strictNumbers: false } },
  });
  if (config.maxConnections !== null) app.server.maxConnections = config.maxConnections;
  // Node keeps a request's first thousand or so header lines and drops the rest unsaid, a
  // Content-Length or an Expect among them: the body was lost, checks skipped. The header size
  // limit (maxHeaderSize, 431 past it) bounds them all the same.
  app.server.maxHeadersCount = 0;
  app.server.on('checkExpectation', answerUnmetExpectation);
  const hasKey = config.apiKey === null ? () => true : bearerKeyCheck(config.apiKey);
  app.server.on('checkContinue', (request, response) => {
    const refusal = refusalBeforeBody(config.bodyLimitBytes, hasKey, app.ownRoutes, request);
    if (refusal) return refuseBeforeBody(response, refusal);
    response.writeContinue();
    app.server.emit('request', request, response);
  });
  app.server.on('connect', refuseTunnel);
  // Every method Node parses may be submitted (WebDAV's, QUERY, PURGE, ...), not only those
  // Fastify knows, and with a body: `/api/*` forwards it (and refuses one on TRACE), every other
  // route refuses it. Fastify would leave the body of GET, HEAD and TRACE unread, dropping it.
  // CONNECT never reaches a route (`refuseTunnel`).
  for (const method of SERVED_METHODS) {
    app.addHttpMethod(method, { hasBody: true, overrideExisting: true });
  }
  const answersPreflights = !config.corsOrigins;
  // An answer from the head (a 401, a 400 for the path) leaves the body coming: read and
  // dropped, a stall in it is owed no second answer (a 408), and one too large closes.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (!request.raw.complete && !drainRefusedBody(request.raw)) {
      reply.header('connection', 'close');
    }
    done(null, payload);
  });
  app.addHook('onRequest', (request, reply, done) => {
    // First: after a request line of another version, how the rest is framed is a guess.
    const lineRefusal = requestLineRefusal(request.raw);
    if (lineRefusal !== undefined) {
      sendError(reply, 'bad_request', lineRefusal, { connection: 'close' });
      return;
    }
    // Before auth: the methods the proxy takes are in its documentation anyway.
    if (asksAboutServer(request.raw)) {
      reply.code(204).header('allow', SERVED_METHODS.join(', ')).header('content-length', '0');
      reply.send();
      return;
    }
    // Without --cors-origin, a preflight gets 204 with no Access-Control-* header, so the browser
    // still refuses the request it asked about. Routed, it would be a submission on /api/*: a
    // task the target is called for, with an answer no browser reads, and one any page its user
    // visits could fill the queue with. Before auth, as with CORS: a preflight never has the key.
    if (answersPreflights && isPreflight(request)) {
      reply.code(204).header('content-length', '0').send();
      return;
    }
    const { httpVersionMajor, httpVersionMinor, headers } = request.raw;
    // HTTP/1.1 requires Host (RFC 9112 §3.2), as Node would have checked.
    if (httpVersionMajor === 1 && httpVersionMinor === 1 && headers.host === undefined) {
      sendError(reply, 'bad_request', 'An HTTP/1.1 request must have a Host header');
      return;
    }
    // Node keeps the first of several and drops the rest; RFC 9112 §3.2 asks for a 400, since
    // the proxy and something in front of it could each read a different one.
    if (hostCount(request.raw.rawHeaders) > 1) {
      sendError(reply, 'bad_request', 'The request has more than one Host header');
      return;
    }
    // A fragment is the client's own (RFC 9110 §4.2.4) and no request target carries one; a raw
    // `#` sent anyway (`?q=C#`) is most likely meant as data, which a target would not receive.
    if (request.raw.url?.includes('#')) {
      sendError(
        reply,
        'bad_request',
        'The request target has a "#": a fragment is never sent to a server, and a # meant as data is sent as %23',
      );
      return;
    }
    // Node undoes only `chunked`: a body sent `gzip, chunked` would reach the target still
    // compressed, with nothing left to say so.
    const coding = headers['transfer-encoding'];
    // HTTP/1.0 has no chunked framing: a front end of that version reads such a body otherwise,
    // so the connection must not carry another request (RFC 9112 §6.1).
    if (coding !== undefined && request.raw.httpVersion === '1.0') {
      reply.header('connection', 'close');
    }
    if (coding !== undefined && !/^\s*chunked\s*$/i.test(coding)) {
      sendError(
        reply,
        'bad_request',
        `Transfer-Encoding ${JSON.stringify(coding)} is not supported: only chunked is (a compressed body says so with Content-Encoding)`,
      );
      return;
    }
    done();
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(/^/, refuseBody);

  app.register(errorHandling, { log, clock: deps.clock ?? systemClock });
  // Before the routes: it collects them as they are added, to name the one a 404 meant.
  app.register(routeHints);
  app.register(decimalQuery);
  app.register(unusedConnections);
  app.register(unreadAnswers, {
    stallMs: config.requestTimeoutMs,
    clock: deps.clock ?? systemClock,
  });
  app.register(proxyState, { config, deps, log });
  if (config.corsOrigins) {
    const origin = config.corsOrigins[0] === '*' ? '*' : config.corsOrigins;
    const configured: FastifyCorsOptions = {
      origin,
      methods: CORS_METHODS,
      exposedHeaders: CORS_EXPOSED_HEADERS,
      maxAge: CORS_MAX_AGE_SECONDS,
    };
    const noPreflight: FastifyCorsOptions = { ...configured, preflight: false };
    // Before auth: a browser's preflight never carries the API key. Only an OPTIONS request with
    // Origin and Access-Control-Request-Method is a preflight; any other is routed as it is
    // without CORS (a submission on /api/*), not refused in plain text.
    app.register(cors, {
      delegator: (request, callback) =>
        callback(
          null,
          request.method === 'OPTIONS' && !isPreflight(request) ? noPreflight : configured,
        ),
    });
  }
  if (config.apiKey !== null) {
    app.register(auth, { apiKey: config.apiKey, isOpen: (route) => isOpenRoute(config, route) });
  }
  // After CORS and auth: a gateway's bad prefix is a 400 a page can read, and no one's before a 401.
  app.register(forwardedPrefix, { trust });
  // The shapes the routes' answers reference by name (and the OpenAPI document names).
  for (const schema of sharedSchemas) app.addSchema(schema);
  // Before the routes: the OpenAPI document collects them as they are added.
  app.register(openapi, { config });
  app.register(serviceRoutes);
  app.register(taskRoutes);
  app.register(taskControlRoutes);
  app.register(taskResultRoutes);
  app.register(eventRoutes);
  app.register(tasksRoutes);
  app.register(submitRoutes);
  app.register(metricsRoutes);
  app.register(uiRoutes);
  return app;
}

/**
 * Routes served without the API key besides /health: the dashboard's page and files (no data in
 * them: the page calls the API with the key), and those a flag opens.
 */
function isOpenRoute(config: ProxyConfig, route: string): boolean {
  if (route === UI_PATH || route.startsWith(`${UI_PATH}/`)) return true;
  if (route === '/metrics') return config.publicMetrics;
  if (route === OPENAPI_PATH || route === DOCS_PREFIX || route.startsWith(`${DOCS_PREFIX}/`)) {
    return config.publicDocs;
  }
  return false;
}

/**
 * Stops taking submissions (503 `shutting_down`), gives upstream calls in flight `graceMs` to
 * finish, fails what is left with `interrupted`, then closes the server. Resolves with the
 * backend's stop report: the outcomes it could not save.
 */
export async function shutdownServer(
  app: FastifyInstance,
  graceMs: number,
  signal?: NodeJS.Signals,
): Promise<ShutdownReport> {
  const report = await app.proxy.shutdown(graceMs, signal);
  await app.close();
  return report;
}

/**
 * A browser's CORS preflight: OPTIONS with Origin and Access-Control-Request-Method. Any other
 * OPTIONS is a request of its own (on `/api/*`, a submission).
 */
function isPreflight({ method, headers }: FastifyRequest): boolean {
  return (
    method === 'OPTIONS' &&
    headers.origin !== undefined &&
    headers['access-control-request-method'] !== undefined
  );
}

/** Node's own link from a socket to the answer being written on it. */
type HttpSocket = Socket & { _httpMessage?: ServerResponse | null };

/** Sockets whose client error is being answered. */
const answering = new WeakSet<Socket>();

/**
 * Requests Node refuses before any route sees them (malformed, or slower than --request-timeout)
 * get the error envelope, after the answers to the requests before them on the connection: a
 * client pairs answers with requests in order, and would take the error for a submission the
 * proxy accepted. The socket is closed then, so a stalled client keeps nothing of ours.
 */
function answerClientError(
  error: ParseError,
  socket: HttpSocket,
  log: FastifyBaseLogger,
  corsHeaders: string,
): void {
  // Node reports the error again for every chunk that arrives after it: one answer is enough.
  if (answering.has(socket)) return;
  answering.add(socket);
  const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  if (timedOut) log.info({ client: socket.remoteAddress }, 'request slower than --request-timeout');
  if (error.code === 'ECONNRESET' || !socket.writable || isDrainingRefusedBody(socket)) {
    socket.destroy();
    return;
  }
  afterEarlierAnswers(socket, () => {
    if (!socket.writable || socket._httpMessage?.headersSent) socket.destroy();
    else if (timedOut) endWithError(socket, 'request_timeout', undefined, corsHeaders);
    else {
      const { code, message } = parseRefusal(error);
      endWithError(socket, code, message, corsHeaders);
    }
  });
}

/**
 * Runs `then` once the answers owed to requests received whole before the bad one are written
 * (Node queues pipelined answers). A bad body or a stall belongs to the request whose answer is
 * attached, received in part: that one is not waited for.
 */
function afterEarlierAnswers(socket: HttpSocket, then: () => void): void {
  const pending = socket._httpMessage;
  if (!pending || pending.writableFinished || !pending.req.complete) {
    then();
    return;
  }
  // Node's own 'finish' listener, added first, hands the socket to the next queued answer.
  pending.once('finish', () => afterEarlierAnswers(socket, then));
}

/** CONNECT asks for a tunnel; Node would close the connection without a word. */
function refuseTunnel(_request: IncomingMessage, socket: Duplex): void {
  endWithError(socket, 'bad_request', 'CONNECT is not supported: the proxy opens no tunnels');
}

/**
 * Writes the envelope straight to a socket no response object owns, then closes it; `headers`
 * are extra header lines, each ending in CRLF.
 */
function endWithError(socket: Duplex, code: ErrorCode, message?: string, headers = ''): void {
  const body = JSON.stringify(errorBody(code, message));
  const status = statusOf(code);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      headers +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    // The socket is half-open after end(): without this, a client that never closes its side
    // would keep it.
    () => socket.destroy(),
  );
}

/**
 * `Expect: 100-continue` (curl sends it before any body over 1 MiB): a body the proxy would
 * refuse anyway (over the limit, on a submission without the API key or with a path it refuses,
 * or on one of the proxy's own routes, which take none) is refused before the client sends a
 * byte, rather than after "100 Continue" invited it to send what the proxy then refuses (RFC 9110
 * §10.1.1).
 */
function refusalBeforeBody(
  limitBytes: number,
  hasKey: (authorization: string | undefined) => boolean,
  routes: readonly OwnRoute[],
  request: IncomingMessage,
): ProxyHttpError | undefined {
  // The key first, as without Expect: a caller without it learns nothing, the limit included.
  // Only submissions: the proxy's other routes take no body, and some are open without the key.
  const path = originForm(request.url ?? '/').split('?')[0] ?? '';
  const submission = isSubmission(path);
  if (submission && !hasKey(request.headers.authorization)) {
    return new ProxyHttpError('unauthorized', undefined, UNAUTHORIZED_HEADERS);
  }
  // As the route would, before the limit: the path alone decides, whatever the body.
  if (submission && !staysUnderApi(originForm(request.url ?? '/'))) {
    return new ProxyHttpError('bad_request', PATH_NOT_UNDER_API);
  }
  const declared = Number(request.headers['content-length']);
  const overLimit = Number.isFinite(declared) && declared > limitBytes;
  if (submission) return overLimit ? bodyTooLarge(limitBytes) : undefined;
  // Another route refuses any body, whatever --body-limit says. A Transfer-Encoding announces a
  // body of unknown length, which may yet be empty: one that asks to be invited is taken to have
  // bytes. A path that is no route is invited, unless the body is over the limit: its 404 or 405
  // names the route meant, which only the request Fastify routes can.
  const method = request.method ?? '';
  const hasBody = declared > 0 || request.headers['transfer-encoding'] !== undefined;
  return overLimit || (hasBody && isOwnRoute(routes, method, path))
    ? takesNoBody(method, path)
    : undefined;
}

/** Whether the router will take a request for `path` to `/api/*`: it matches it decoded. */
function isSubmission(path: string): boolean {
  try {
    return decodeURIComponent(path).startsWith('/api/');
  } catch {
    return path.startsWith('/api/');
  }
}

/** The envelope of `error` on a response Fastify never sees, and the connection closed. */
function refuseBeforeBody(response: ServerResponse, error: ProxyHttpError): void {
  const body = JSON.stringify(errorBody(error.code, error.message));
  response.writeHead(error.statusCode, {
    ...error.headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  response.end(body);
}

/** An `Expect` other than 100-continue, which Node would answer 417 with an empty body. */
function answerUnmetExpectation(_request: IncomingMessage, response: ServerResponse): void {
  refuseBeforeBody(response, new ProxyHttpError('expectation_failed'));
}

function hostCount(rawHeaders: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.length === 4 && rawHeaders[i]?.toLowerCase() === 'host') count++;
  }
  return count;
}
