import ky, { isHTTPError, type Hooks as KyHooks, type KyInstance, type RetryOptions } from 'ky';
import { type FailedRequest, invalidResponseError } from '../errors/error-from-response.js';
import { requestLine } from '../errors/request-line.js';
import type { Hooks } from '../hooks.js';
import { MAX_TIMER_MS } from '../timer-limit.js';
import { bodyStreamError, type WatchedBody, watchBody } from './body-stream.js';
import { markBrowserFailure } from './browser-failure.js';
import { textWithin } from './read-text.js';
import type { EncodedBody } from './request-body.js';
import { asBlockedPort, sentNothing } from './retry-policy.js';
import { responseTimeoutError, translateError } from './translate-error.js';
import { type QueryValue, resolveUrl } from './url.js';

export interface TransportOptions {
  baseUrl: string;
  apiKey: string | undefined;
  timeoutMs: number;
  headers: Record<string, string> | undefined;
  fetch: typeof fetch | undefined;
  hooks: Hooks | undefined;
}

export interface HttpRequest {
  method: string;
  /** Relative to the base URL, e.g. `task/<id>`. */
  path: string;
  query?: Record<string, QueryValue>;
  headers?: Record<string, string>;
  body?: EncodedBody;
  signal: AbortSignal | undefined;
  retry: RetryOptions;
  /** This request's own limit, in milliseconds, instead of the client's. */
  timeoutMs?: number | undefined;
  /** Added to the per-request timeout, for reads the server is asked to hold. */
  extraTimeoutMs?: number;
  /** The task a request is about, so a not-found error can name it. */
  taskId?: string;
  /** The `Idempotency-Key` a submission carries, so a reused-key error can name it. */
  idempotencyKey?: string;
  /**
   * Said when no answer came but the request may have arrived, for requests that change
   * something without a key to ask again with (a retry may have run its task again).
   */
  lostAnswerNote?: string;
  /**
   * A submission: its headers reach the target, so the SDK's own `Accept` (for the proxy's JSON)
   * is left out, and the target sees fetch's neutral one or the caller's; `Accept-Encoding` is
   * `identity` unless the caller names one.
   */
  forwarded?: boolean;
  /**
   * An error status that is an answer rather than the proxy's refusal: a replayed result keeps
   * the target's status, 500 included. Such a response is returned, not thrown.
   */
  isAnswer?: (response: Response) => boolean;
}

export interface HttpAnswer {
  /** What was asked, and the answer's headers, for error messages about the answer. */
  request: FailedRequest & { headers: Headers };
  status: number;
  headers: Headers;
  /** The parsed JSON body. */
  body: unknown;
}

/** An answer whose body is left unread: a replayed result, an event stream. */
export interface OpenAnswer {
  request: FailedRequest & { headers: Headers };
  response: Response;
  /** When the attempt that got this answer was sent (`performance.now()`): ky times each one. */
  sentAt: number;
}

/**
 * The one choke point every HTTP call of the SDK goes through: it builds the URL, runs ky with the
 * request's retry policy, parses the JSON answer and translates every failure into a ProxyError.
 */
export class Transport {
  readonly baseUrl: string;
  readonly #timeoutMs: number;
  readonly #ky: KyInstance;
  readonly #fetch: typeof fetch | undefined;
  /** The client's headers name their own `Accept`, which then goes on every request. */
  readonly #acceptGiven: boolean;
  /** The client's headers name their own `Accept-Encoding`, which then goes on submissions. */
  readonly #encodingGiven: boolean;

  constructor(options: TransportOptions) {
    this.baseUrl = options.baseUrl;
    this.#timeoutMs = options.timeoutMs;
    this.#acceptGiven = namesHeader(options.headers, 'accept');
    this.#encodingGiven = namesHeader(options.headers, 'accept-encoding');
    this.#fetch = options.fetch;
    this.#ky = ky.create({
      headers: {
        ...options.headers,
        ...(options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` }),
      },
      // The SDK's hook types are narrower than ky's, so every one of them is a valid ky hook.
      ...(options.hooks ? { hooks: options.hooks as KyHooks } : {}),
    });
  }

  /** Sends the request and parses the JSON answer. */
  async request(request: HttpRequest): Promise<HttpAnswer> {
    const timeoutMs = this.#timeoutOf(request);
    const { request: answered, response, sentAt } = await this.open(request);
    let text: string | undefined;
    try {
      // ky's timeout ends when the headers are in; the body gets what is left of it, so a proxy
      // that goes quiet mid-answer cannot hold the call past timeoutMs.
      text = await textWithin(
        response,
        timeoutMs > MAX_TIMER_MS ? undefined : timeoutMs - (performance.now() - sentAt),
      );
    } catch (error) {
      // The connection broke while the body arrived: as unreachable as no answer at all.
      throw await translateError(
        error,
        { ...answered, timeoutMs: 0, mayHaveArrived: true },
        request.signal,
      );
    }
    if (text === undefined) {
      throw responseTimeoutError({ ...answered, timeoutMs, mayHaveArrived: true }, undefined);
    }
    return {
      request: answered,
      status: response.status,
      headers: response.headers,
      // An answer to HEAD has no body, by definition: its headers are all there is.
      body: request.method === 'HEAD' ? null : parseJson(text, answered),
    };
  }

  /** The whole body of an opened answer, as bytes; a connection broken meanwhile is unreachable. */
  async readBytes(answer: OpenAnswer, signal: AbortSignal | undefined): Promise<Uint8Array> {
    try {
      return new Uint8Array(await answer.response.arrayBuffer());
    } catch (error) {
      throw await translateError(
        error,
        { ...answer.request, timeoutMs: 0, mayHaveArrived: true },
        signal,
      );
    }
  }

  /**
   * Sends the request and answers the response with its body unread (the caller reads it: bytes
   * of a replayed result, or an event stream). The time limit covers the wait for the response's
   * headers only, so a stream may run for as long as it lasts.
   */
  async open(request: HttpRequest): Promise<OpenAnswer> {
    const url = resolveUrl(this.baseUrl, request.path, request.query);
    const timeoutMs = this.#timeoutOf(request);
    const failed = {
      method: request.method,
      url,
      timeoutMs,
      ...(request.taskId === undefined ? {} : { taskId: request.taskId }),
      ...(request.idempotencyKey === undefined ? {} : { idempotencyKey: request.idempotencyKey }),
      ...(request.lostAnswerNote === undefined ? {} : { lostAnswerNote: request.lostAnswerNote }),
    };
    let sentAt = performance.now();
    let mayHaveArrived = false;
    const watched = streamBody(request.body);
    let bodyFailed: Error | undefined;
    try {
      const response = await this.#ky(url, {
        method: request.method,
        headers: {
          ...(this.#acceptGiven || request.forwarded || namesHeader(request.headers, 'accept')
            ? {}
            : { accept: 'application/json' }),
          // fetch asks for gzip by itself, and on a submission the target would hear it: its
          // compressed answer would be the task's result, base64 where JSON or text was expected.
          ...(request.forwarded &&
          !this.#encodingGiven &&
          !namesHeader(request.headers, 'accept-encoding')
            ? { 'accept-encoding': 'identity' }
            : {}),
          ...request.headers,
        },
        ...(watched ? { body: watched.stream } : request.body),
        ...(request.signal ? { signal: request.signal } : {}),
        // Never followed: fetch turns a POST into a body-less GET on a 301 or 302, so a
        // submission would reach the target changed; a replayed 3xx is the target's answer.
        redirect: 'manual',
        retry: request.retry,
        timeout: timeoutMs > MAX_TIMER_MS ? false : timeoutMs,
        // Called once per attempt, where ky's timeout starts: a retry's body is timed from it.
        // The global fetch is looked up at each call, where a test's interceptor finds it.
        // Each attempt's outcome is noted too: ky throws the last one's error only, and an
        // earlier attempt that got as far as the proxy may have created a task.
        fetch: (input, init) => {
          sentAt = performance.now();
          const send = this.#fetch ?? globalThis.fetch;
          return send(input, init).then(
            (response) => {
              mayHaveArrived = true;
              return response;
            },
            async (thrown: unknown) => {
              // The caller's body failed, not the connection: never retried, never unreachable.
              const failure = watched?.failure();
              if (failure) {
                bodyFailed = bodyStreamError(failure.error, requestLine(request.method, url));
                throw bodyFailed;
              }
              // A hook may have sent it elsewhere: the port is the one fetch was given.
              const sentTo = input instanceof Request ? input.url : String(input);
              const error = await markBrowserFailure(asBlockedPort(thrown, sentTo), {
                input,
                streamed: watched !== undefined,
                baseUrl: this.baseUrl,
                fetch: send,
              });
              if (!sentNothing(error)) mayHaveArrived = true;
              throw error;
            },
          );
        },
      });
      return { request: { ...failed, headers: response.headers }, response, sentAt };
    } catch (error) {
      if (isHTTPError(error) && request.isAnswer?.(error.response) && !request.signal?.aborted) {
        return {
          request: { ...failed, headers: error.response.headers },
          response: error.response,
          sentAt,
        };
      }
      if (bodyFailed !== undefined && error === bodyFailed && !request.signal?.aborted) {
        throw error;
      }
      throw await translateError(error, { ...failed, mayHaveArrived }, request.signal);
    }
  }

  /** The request's time limit: its own or the client's, plus any hold asked of the server. */
  #timeoutOf(request: HttpRequest): number {
    return (request.timeoutMs ?? this.#timeoutMs) + (request.extraTimeoutMs ?? 0);
  }
}

function parseJson(text: string, request: FailedRequest & { headers: Headers }): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidResponseError(request, 'the body is not JSON', error);
  }
}

/** A `ReadableStream` body, read through the SDK's own stream (see `watchBody`). */
function streamBody(body: HttpRequest['body']): WatchedBody | undefined {
  const raw = body !== undefined && 'body' in body ? body.body : undefined;
  return typeof ReadableStream !== 'undefined' && raw instanceof ReadableStream
    ? watchBody(raw)
    : undefined;
}

function namesHeader(headers: Record<string, string> | undefined, header: string): boolean {
  return Object.keys(headers ?? {}).some((name) => name.toLowerCase() === header);
}
