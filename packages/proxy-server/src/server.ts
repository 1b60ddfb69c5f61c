import type { Socket } from 'node:net';
import cors from '@fastify/cors';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import type { ProxyConfig } from './config/config.js';
import { errorBody, sendError } from './errors.js';
import { auth } from './plugins/auth.js';
import { errorHandling } from './plugins/error-handling.js';
import { proxyState } from './plugins/proxy-state.js';
import type { ProxyDeps } from './proxy/proxy.js';
import { serviceRoutes } from './routes/service.js';
import { submitRoutes } from './routes/submit.js';
import { taskRoutes } from './routes/task.js';
import { tasksRoutes } from './routes/tasks.js';

export interface ServerDeps extends ProxyDeps {
  /** Where log lines go instead of stdout (one JSON object per line). */
  logStream?: { write(line: string): void };
}

const CORS_EXPOSED_HEADERS = ['location', 'retry-after', 'x-proxy-wait-max'];
/** Submissions take any method, so a browser may preflight any of them. */
const CORS_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * The proxy as a Fastify instance, ready for `inject` or `listen`; it never listens by itself.
 * Closing it cuts calls in flight off at once; `shutdownServer` gives them time to finish.
 */
export function buildServer(config: ProxyConfig, deps: ServerDeps = {}): FastifyInstance {
  const log: FastifyBaseLogger = deps.logStream
    ? pino({ level: config.logLevel }, deps.logStream)
    : pino({ level: config.logLevel });
  // The proxy logs one line per task transition through `log`. Fastify itself only gets the
  // logger at debug and trace, to log each request: given any logger, it adds response listeners
  // and a logger per request, about a tenth of the cost of a submission, even with request
  // logging disabled.
  const logsRequests = config.logLevel === 'debug' || config.logLevel === 'trace';
  const app = Fastify({
    ...(logsRequests ? { loggerInstance: log } : { logger: false }),
    bodyLimit: config.bodyLimitBytes,
    clientErrorHandler: answerMalformedRequest,
    frameworkErrors: (error, _request, reply) => sendError(reply, 'bad_request', error.message),
  });

  app.register(errorHandling, { log });
  app.register(proxyState, { config, deps, log });
  if (config.corsOrigins) {
    // Before auth: a browser's preflight never carries the API key.
    const origin = config.corsOrigins[0] === '*' ? '*' : config.corsOrigins;
    app.register(cors, { origin, methods: CORS_METHODS, exposedHeaders: CORS_EXPOSED_HEADERS });
  }
  if (config.apiKey !== null) app.register(auth, { apiKey: config.apiKey });
  app.register(serviceRoutes);
  app.register(taskRoutes);
  app.register(tasksRoutes);
  app.register(submitRoutes);
  return app;
}

/**
 * Stops taking submissions (503 `shutting_down`), gives upstream calls in flight `graceMs` to
 * finish, fails what is left with `interrupted`, then closes the server.
 */
export async function shutdownServer(app: FastifyInstance, graceMs: number): Promise<void> {
  await app.proxy.shutdown(graceMs);
  await app.close();
}

/** Requests Node's HTTP parser rejects still get the error envelope, then the socket closes. */
function answerMalformedRequest(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(
    errorBody('bad_request', `Malformed HTTP request (${error.code ?? 'parse error'})`),
  );
  socket.end(
    'HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
