import {
  isIdempotencyKeyReusedError,
  isProxyError,
  isProxyResponseError,
  isProxyUnreachableError,
  isQueueFullError,
  isTaskFailedError,
  isTaskFinishedError,
  isTaskNotFinishedError,
  isTaskNotFoundError,
  isUnauthorizedError,
  isWaitTimeoutError,
  type ProxyError,
  type ProxyUnreachableError,
  parseRetryAfterMs,
} from 'proxy-client';
import { endsUnderApi, UNTRUSTED_CERTIFICATE_CODES } from 'proxy-client/wire';
import { CliError, isCliError } from './cli-error.js';
import { EXIT_CODES } from './exit-codes.js';
import type { CliOptions } from './options.js';
import { queueFullReason } from './queue-full-reason.js';
import { endedWithout } from './render/task.js';
import { cliCommand, cliStart } from './resume.js';
import { dropRouteHint } from './url-at-route.js';
import { DROP_API } from './url-under-api.js';

const checkUrl = (cli: string) =>
  `point --url (or PROXY_URL) at the proxy's base URL, e.g. http://localhost:8080, not at its target; ${cli} health --url <url> checks it`;

/** The hint for a proxy that never answered, whether the SDK's timeout or --timeout ran out. */
export const TOOK_THE_CONNECTION =
  'the proxy took the connection but did not answer: check that --url (or PROXY_URL) is the proxy and that it is not stuck';

/** What is said when the SDK's own limit for a request ran out, whatever the call. */
export const noAnswerWithinSdkLimit = (url: string) =>
  `no answer from the proxy at ${url} within the SDK's own time limit for a request`;

const GATEWAY =
  'a gateway in front of the proxy answered, not the proxy: it may be restarting or down behind it; try again shortly, and if this lasts, check the proxy behind the gateway, and that --url has the path the gateway serves it under, if any (http://gateway/proxy)';

/**
 * The one place that turns an SDK error into an exit code and words for people. Waits add their
 * own resume hints first (commands/wait.ts); everything else lands here.
 */
export function toCliError(
  error: unknown,
  context: { url: string; signal?: AbortSignal; options?: CliOptions },
): CliError {
  if (isCliError(error)) return error;
  // Hints name the same proxy the failed call used, so they work when pasted.
  const { options } = context;
  const command = (...args: string[]) =>
    options ? cliCommand(options, args) : [cliStart(false), ...args].join(' ');
  if (context.signal?.aborted) {
    return new CliError(EXIT_CODES.interrupted, 'interrupted', undefined, { cause: error });
  }
  if (isProxyUnreachableError(error)) {
    const tls = tlsProblem(error);
    if (tls) {
      return new CliError(
        EXIT_CODES.unreachable,
        `could not reach the proxy at ${context.url}: ${tls.problem}`,
        tls.hint,
        { cause: error },
      );
    }
    if (error.code === 'blocked_port') {
      return new CliError(
        EXIT_CODES.unreachable,
        `could not reach the proxy at ${context.url}: fetch refuses to connect to port ${new URL(context.url).port}, one browsers block, and sent nothing`,
        'run the proxy on another port (proxy-server --listen-port <port>) and point --url at that; curl reaches this one, but fetch never will',
        { cause: error },
      );
    }
    // The SDK's own timeout (30 s) means the proxy took the connection: it runs there.
    if (error.code === 'response_timeout') {
      return new CliError(
        EXIT_CODES.unreachable,
        noAnswerWithinSdkLimit(context.url),
        TOOK_THE_CONNECTION,
        { cause: error },
      );
    }
    return new CliError(
      EXIT_CODES.unreachable,
      `could not reach the proxy at ${context.url}${causeText(error)}`,
      'is the proxy running there? Point the CLI at it with --url <url> or PROXY_URL',
      { cause: error },
    );
  }
  if (isTaskNotFoundError(error)) {
    const details = { task_id: error.taskId };
    if (error.code === 'invalid_task_id') {
      return new CliError(
        EXIT_CODES.notFound,
        `'${error.taskId}' is not a task id: the proxy's task ids are UUIDs`,
        'copy the id as proxy-cli submit or proxy-cli list prints it',
        { cause: error, code: 'invalid_task_id', details },
      );
    }
    return new CliError(
      EXIT_CODES.notFound,
      `no task ${error.taskId} on the proxy at ${context.url}`,
      `check the id; ${command('--list-tasks')} shows the tasks the proxy holds (cleanup removes old ones)`,
      { cause: error, details },
    );
  }
  if (isTaskFinishedError(error)) {
    const status = error.task?.status;
    return new CliError(
      EXIT_CODES.taskState,
      `task ${error.taskId} has already finished${status ? ` (${status})` : ''}; there is nothing to cancel`,
      status === 'failed' || status === 'expired'
        ? `run it again with: ${command('retry', error.taskId)}`
        : undefined,
      {
        cause: error,
        code: 'task_finished',
        details: { task_id: error.taskId, ...(status && { status }) },
      },
    );
  }
  if (isTaskNotFinishedError(error)) {
    return new CliError(
      EXIT_CODES.taskState,
      `task ${error.taskId} has not finished; only a finished task can be run again`,
      `wait for it with: ${command('wait', error.taskId)}`,
      { cause: error, code: 'task_not_finished', details: { task_id: error.taskId } },
    );
  }
  if (isIdempotencyKeyReusedError(error)) {
    return new CliError(
      EXIT_CODES.proxyError,
      `the idempotency key '${error.idempotencyKey}' was used for another request (422); no task was created`,
      'a key names one request: use a new --idempotency-key for a new request',
      {
        cause: error,
        code: 'idempotency_key_reused',
        details: { idempotency_key: error.idempotencyKey },
      },
    );
  }
  if (isTaskFailedError(error)) {
    return new CliError(EXIT_CODES.taskFailed, endedWithout(error.task), undefined, {
      cause: error,
      details: { task_id: error.task.task_id, status: error.task.status },
    });
  }
  if (isWaitTimeoutError(error)) {
    return new CliError(EXIT_CODES.timeout, `gave up waiting for task ${error.taskId}`, undefined, {
      cause: error,
      details: {
        task_id: error.taskId,
        ...(error.lastTask && { status: error.lastTask.status }),
      },
    });
  }
  if (isUnauthorizedError(error)) {
    // Two different mistakes: no key at all, or the wrong one.
    return error.apiKeySent
      ? new CliError(
          EXIT_CODES.proxyError,
          `the proxy at ${context.url} refused the API key (401)`,
          "check the key given with --api-key or PROXY_API_KEY against the proxy's --api-key",
          { cause: error, code: 'unauthorized' },
        )
      : new CliError(
          EXIT_CODES.proxyError,
          `the proxy at ${context.url} needs an API key (401), and none was given`,
          "pass the proxy's key with PROXY_API_KEY (or --api-key <key>)",
          { cause: error, code: 'unauthorized' },
        );
  }
  if (isQueueFullError(error) && !notAProxy(error, context.url)) {
    const seconds = error.retryAfterMs === undefined ? undefined : error.retryAfterMs / 1000;
    const reason = queueFullReason(error);
    return new CliError(
      EXIT_CODES.proxyError,
      reason
        ? `the proxy refused the task (503 ${error.code}): ${reason}; the task was not created`
        : error.code === 'tenant_queue_full'
          ? "this tenant's share of the proxy's queue is full (503); the task was not created"
          : "the proxy's queue is full (503); the task was not created",
      `try again in ${seconds ?? 'a few'} s`,
      {
        cause: error,
        code: error.code,
        ...(seconds !== undefined && { details: { retry_after_s: seconds } }),
      },
    );
  }
  if (isProxyResponseError(error) && error.code === 'store_unavailable') {
    const retryAfterMs = parseRetryAfterMs(error.headers?.get('retry-after') ?? null);
    const seconds = retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000);
    // No Retry-After: the proxy says its store will not mend by waiting (a damaged file, or one
    // removed or replaced under it), which its message names.
    const hint =
      retryAfterMs === undefined
        ? "the proxy's task file is damaged, or was removed or replaced while it ran, and waiting will not mend it: do what the message says (docs/troubleshooting.md)"
        : `the proxy's store (its SQLite file or Redis) is unreachable; try again in ${seconds} s`;
    return new CliError(EXIT_CODES.proxyError, error.message, hint, {
      cause: error,
      code: error.code,
      ...(seconds !== undefined && { details: { retry_after_s: seconds } }),
    });
  }
  if (isProxyError(error) && notAProxy(error, context.url)) {
    const location = redirectOf(error);
    // Only the proxy's own 404 says the path is the proxy's, not the target's.
    const atRoute = error.code === 'not_found' ? dropRouteHint(context.url) : undefined;
    const answer = `${answerOf(error)}${location ? `, a redirect to ${location.href}` : ''}`;
    return new CliError(
      EXIT_CODES.proxyError,
      `${context.url} does not answer like a proxy-server (${answer})`,
      location
        ? redirectHint(context.url, error, location)
        : endsUnderApi(context.url)
          ? DROP_API
          : (atRoute ??
            (gatewayAnswered(error) ? GATEWAY : checkUrl(cliStart(options?.runByNpx === true)))),
      { cause: error, code: 'not_a_proxy', details: { proxy_code: error.code } },
    );
  }
  if (isProxyError(error)) {
    return new CliError(EXIT_CODES.proxyError, error.message, undefined, {
      cause: error,
      code: error.code,
    });
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return new CliError(EXIT_CODES.taskFailed, `unexpected error: ${message}`, undefined, {
    cause: error,
    code: 'internal_error',
  });
}

/**
 * A 5xx without the proxy's error envelope: proxy-server always sends one, so a gateway or load
 * balancer in front of it answered (nginx's HTML 502 while the proxy restarts), not the target.
 */
function gatewayAnswered(error: ProxyError): boolean {
  return (
    isProxyResponseError(error) && error.code.startsWith('http_') && (error.status ?? 0) >= 500
  );
}

/**
 * Answers that a proxy-server never gives for the CLI's requests: a 2xx the SDK cannot read, a
 * non-2xx without the proxy's error envelope, or the proxy's own `not_found` (a base URL whose
 * path prefix the proxy does not have). Each most likely means --url points elsewhere.
 */
function notAProxy(error: ProxyError, url: string): boolean {
  return (
    error.code === 'invalid_response' ||
    error.code === 'not_found' ||
    (isProxyResponseError(error) && error.code.startsWith('http_')) ||
    // Only a submission is refused for room or for its path, and the CLI sends none under a --url
    // ending in /api (refused before sending): a read there was taken for a task, with the queue
    // full, or under an escaped /api (`/%61pi`), which the proxy refuses as a task's path.
    ((isQueueFullError(error) || error.code === 'bad_request') && endsUnderApi(url))
  );
}

function answerOf(error: ProxyError): string {
  const request = error.method && error.url ? `${error.method} ${new URL(error.url).pathname}` : '';
  if (error.status !== undefined) return `${request} answered ${error.status}`.trim();
  return `${request}: ${error.code}`.replace(/^: /, '');
}

/** Where a 3xx points, resolved against the request's URL (a Location may be relative). */
function redirectOf(error: ProxyError): URL | undefined {
  const status = error.status ?? 0;
  const location = error.headers?.get('location');
  if (status < 300 || status >= 400 || !location || !error.url) return undefined;
  return URL.canParse(location, error.url) ? new URL(location, error.url) : undefined;
}

/**
 * The --url to use when the redirect keeps the path the CLI asked for (a gateway sending
 * http:// on to https://, the usual case): the Location without that path. Any other redirect (a
 * login page) says nothing of where the proxy is.
 */
function redirectHint(baseUrl: string, error: ProxyError, location: URL): string {
  const why = 'the CLI follows no redirect (a submission would lose its method and body)';
  const asked = error.url ? new URL(error.url).pathname : '';
  const basePath = new URL(baseUrl).pathname.replace(/\/$/, '');
  const tail = asked.startsWith(basePath) ? asked.slice(basePath.length) : '';
  if (tail !== '' && location.pathname.endsWith(tail)) {
    const url = `${location.origin}${location.pathname.slice(0, -tail.length)}`;
    return `${why}: if the proxy is there, use --url ${url}`;
  }
  return `${why}: point --url (or PROXY_URL) at the proxy's own URL`;
}

/**
 * What a TLS failure in the cause chain means for the person at the terminal, if it is one with
 * a known remedy; any other TLS failure keeps its code in the generic message.
 */
function tlsProblem(error: Error): { problem: string; hint: string } | undefined {
  let cause: unknown = error.cause;
  for (let depth = 0; cause instanceof Error && depth < 5; depth++) {
    const code = 'code' in cause && typeof cause.code === 'string' ? cause.code : '';
    if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
      return {
        problem: 'it does not speak TLS on that port (https:// to a plain HTTP server?)',
        hint: 'proxy-server itself serves plain HTTP: use http://, or the https:// URL of the TLS front in front of it',
      };
    }
    if (UNTRUSTED_CERTIFICATE_CODES.has(code)) {
      return {
        problem: `its TLS certificate is not trusted here (${code})`,
        hint: "give the CLI the certificate's CA with NODE_EXTRA_CA_CERTS=/path/to/ca.pem, or use the proxy's http:// URL",
      };
    }
    if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
      return {
        problem: `its TLS certificate is outside its dates (${code})`,
        hint: "check this machine's clock, then the certificate's validity on the server",
      };
    }
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return {
        problem: 'its TLS certificate is for another host name (ERR_TLS_CERT_ALTNAME_INVALID)',
        hint: 'use the host name the certificate names in --url',
      };
    }
    cause = cause.cause;
  }
  return undefined;
}

/**
 * No answer, though the request may have reached the proxy (the SDK saw an attempt get that far):
 * the connection broke (reset, closed) or the answer took too long. A refused connection, an
 * unknown host, a blocked port or a TLS failure sent nothing, and keeps the usual "is the proxy
 * running there?".
 */
export function answerLost(error: unknown): error is ProxyUnreachableError {
  return isProxyUnreachableError(error) && error.mayHaveArrived;
}

/** "no answer from the proxy at URL while DOING (why)", for an error `answerLost` holds true. */
export function noAnswerWhile(url: string, doing: string, error: ProxyUnreachableError): string {
  const why = error.code === 'response_timeout' ? ' (none in time)' : causeText(error);
  return `no answer from the proxy at ${url} while ${doing}${why}`;
}

/** The most telling reason in the cause chain: a system code such as ECONNREFUSED if there is one. */
export function causeText(error: Error): string {
  let deepest: string | undefined;
  let cause: unknown = error.cause;
  for (let depth = 0; cause instanceof Error && depth < 5; depth++) {
    if ('code' in cause && typeof cause.code === 'string' && /^E[A-Z]+$/.test(cause.code)) {
      return ` (${cause.code})`;
    }
    // OpenSSL's messages span lines; one line reads better after "could not reach".
    deepest = cause.message.replace(/\s*\n\s*/g, ' ').trim();
    cause = cause.cause;
  }
  return deepest ? ` (${deepest})` : '';
}
