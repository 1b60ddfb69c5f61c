import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import { pino } from 'pino';
import type { LogLevel } from '../config/config.js';
import { stdoutLines } from './stdout-lines.js';

/** Where log lines go: one JSON object per line (pretty-printing, if any, is the stream's). */
export interface LogStream {
  write(line: string): void;
}

const SECRET_HEADERS = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'idempotency-key',
];

/**
 * Whatever a line may carry by mistake that must never reach a log: credentials and cookies in
 * header maps, request and answer bodies, the API key and secrets of the config. No code logs
 * these on purpose (the request serializer below keeps method and path only); this is the net.
 */
export const REDACTED_PATHS = [
  ...['req.headers', 'res.headers', 'headers', 'request.headers', 'response.headers'].flatMap(
    (map) => SECRET_HEADERS.map((name) => `${map}["${name}"]`),
  ),
  'body',
  'req.body',
  'res.body',
  'request.body',
  'response.body',
  'result.body',
  'apiKey',
  'config.apiKey',
  'webhookSecret',
  'config.webhookSecret',
];

/** The root logger of one server: JSON lines at `level`, secrets redacted, reqId per request. */
export function createLogger(level: LogLevel, stream?: LogStream): FastifyBaseLogger {
  const options = {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // Fastify's own request lines (debug, trace) describe a request by these; its default also
    // has the query string, where callers put tokens.
    serializers: {
      // pino's default appends each cause's message to the error's own, and ours quote their
      // cause already ("saving: disk full: disk full"); the cause stays, as its own object.
      err: errorFields,
      req: requestFields,
      res: (reply: { statusCode: number }) => ({ statusCode: reply.statusCode }),
    },
  };
  return pino(options, stream ?? stdoutLines());
}

/** A serialized error and its causes, as pino gives them: any field, a cause nested. */
interface ErrorFields {
  [field: string]: unknown;
  cause?: unknown;
}

/**
 * An error as pino's errWithCause gives it, but a Redis command that failed keeps only its name:
 * ioredis puts the command on its errors with every argument, which for the proxy's scripts is
 * the script's text (some 20 KiB) and the task's request, its headers (Authorization) and body.
 */
export function errorFields(error: Error): ErrorFields {
  const fields: ErrorFields = pino.stdSerializers.errWithCause(error);
  for (let at: unknown = fields; isErrorFields(at); at = at.cause) {
    const { command } = at;
    if (isErrorFields(command) && 'args' in command) at.command = { name: command.name };
  }
  return fields;
}

function isErrorFields(value: unknown): value is ErrorFields {
  return typeof value === 'object' && value !== null;
}

/** What a log line says about a request: method, path without the query, and the client. */
export function requestFields(request: Pick<FastifyRequest, 'method' | 'originalUrl' | 'ip'>) {
  return {
    method: request.method,
    url: withoutQuery(request.originalUrl),
    remoteAddress: request.ip,
  };
}

export function withoutQuery(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
