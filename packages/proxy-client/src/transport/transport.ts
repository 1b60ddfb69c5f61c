import ky, { type Hooks as KyHooks, type KyInstance, type RetryOptions } from 'ky';
import { type FailedRequest, invalidResponseError } from '../errors/error-from-response.js';
import type { Hooks } from '../hooks.js';
import type { EncodedBody } from './request-body.js';
import { translateError } from './translate-error.js';
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
}

export interface HttpAnswer {
  /** What was asked, and the answer's headers, for error messages about the answer. */
  request: FailedRequest & { headers: Headers };
  headers: Headers;
  /** The parsed JSON body. */
  body: unknown;
}

/** setTimeout's ceiling; ky refuses anything longer. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The one choke point every HTTP call of the SDK goes through: it builds the URL, runs ky with the
 * request's retry policy, parses the JSON answer and translates every failure into a ProxyError.
 */
export class Transport {
  readonly baseUrl: string;
  readonly #timeoutMs: number;
  readonly #ky: KyInstance;

  constructor(options: TransportOptions) {
    this.baseUrl = options.baseUrl;
    this.#timeoutMs = options.timeoutMs;
    this.#ky = ky.create({
      headers: {
        accept: 'application/json',
        ...options.headers,
        ...(options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` }),
      },
      ...(options.fetch ? { fetch: options.fetch } : {}),
      // The SDK's hook types are narrower than ky's, so every one of them is a valid ky hook.
      ...(options.hooks ? { hooks: options.hooks as KyHooks } : {}),
    });
  }

  async request(request: HttpRequest): Promise<HttpAnswer> {
    const url = resolveUrl(this.baseUrl, request.path, request.query);
    const timeoutMs = (request.timeoutMs ?? this.#timeoutMs) + (request.extraTimeoutMs ?? 0);
    const failed = {
      method: request.method,
      url,
      timeoutMs,
      ...(request.taskId === undefined ? {} : { taskId: request.taskId }),
    };
    try {
      const response = await this.#ky(url, {
        method: request.method,
        ...(request.headers ? { headers: request.headers } : {}),
        ...request.body,
        ...(request.signal ? { signal: request.signal } : {}),
        retry: request.retry,
        timeout: timeoutMs > MAX_TIMER_MS ? false : timeoutMs,
      });
      const answered = { ...failed, headers: response.headers };
      return {
        request: answered,
        headers: response.headers,
        body: parseJson(await response.text(), answered),
      };
    } catch (error) {
      throw await translateError(error, failed, request.signal);
    }
  }
}

function parseJson(text: string, request: FailedRequest & { headers: Headers }): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidResponseError(request, 'the body is not JSON', error);
  }
}
