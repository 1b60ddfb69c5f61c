import type { TaskError } from 'proxy-client/wire';
import { Client, type Dispatcher, Pool } from 'undici';
import type { TargetConfig } from '../config/config.js';
import { taskError, taskErrorOf } from './error-codes.js';
import { forwardedHeaders } from './request-headers.js';
import { upstreamPath } from './upstream-path.js';

/** What is sent upstream for one task. */
export interface UpstreamRequest {
  method: string;
  /** Origin-form path as submitted, query string included. */
  path: string;
  /** The incoming request's raw headers `[name, value, ...]`; filtered when sent. */
  rawHeaders: readonly string[];
  body: Buffer | null;
}

export type UpstreamOutcome =
  | {
      ok: true;
      statusCode: number;
      headers: Record<string, string | string[]>;
      body: Buffer;
      contentType: string | undefined;
    }
  | { ok: false; error: TaskError };

export interface UpstreamOptions {
  target: TargetConfig;
  /** Total time one call may take; null for no timeout at all. */
  timeoutMs: number | null;
  resultSizeLimitBytes: number;
  /** Keep-alive connections to hold to the target. */
  connections: number;
  /** Drop the incoming `Authorization` header: it carried the proxy's own API key. */
  dropAuthorization: boolean;
}

/** Establishing a TCP/TLS connection is bounded on purpose; once connected nothing cuts a call. */
const CONNECT_TIMEOUT_MS = 10_000;
const PROBE_TIMEOUT_MS = 2_000;
const TIMED_OUT = Symbol('upstream timeout');

export interface ProbeResult {
  reachable: boolean;
  latencyMs: number | null;
}

/**
 * The one way to the target: an undici `Pool` bound to the target's origin with keep-alive and
 * undici's 300 s header/body timeouts switched off, so only a configured timeout ends a call.
 * `dispatcher` replaces the pool in tests (e.g. undici's MockAgent).
 */
export class UpstreamClient {
  readonly #options: UpstreamOptions;
  readonly #dispatcher: Dispatcher;
  /** Its own connection, so a health probe never queues behind long calls in the pool. */
  readonly #probeDispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  #probe: Promise<ProbeResult> | null = null;
  #inFlight = 0;

  constructor(options: UpstreamOptions, dispatcher?: Dispatcher) {
    this.#options = options;
    this.#ownsDispatcher = dispatcher === undefined;
    this.#dispatcher =
      dispatcher ??
      new Pool(options.target.origin, {
        connections: options.connections,
        pipelining: 1,
        headersTimeout: 0,
        bodyTimeout: 0,
        connect: { timeout: CONNECT_TIMEOUT_MS },
      });
    this.#probeDispatcher =
      dispatcher ??
      new Client(options.target.origin, {
        headersTimeout: PROBE_TIMEOUT_MS,
        bodyTimeout: PROBE_TIMEOUT_MS,
        connect: { timeout: PROBE_TIMEOUT_MS },
      });
  }

  /** Upstream calls in flight now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Makes the call; never throws: a failure is an outcome with the task error. */
  async send(request: UpstreamRequest, signal: AbortSignal): Promise<UpstreamOutcome> {
    this.#inFlight++;
    const callSignal = this.#withTimeout(signal);
    try {
      const response = await this.#dispatcher.request({
        origin: this.#options.target.origin,
        path: upstreamPath(this.#options.target.basePath, request.path),
        method: request.method as Dispatcher.HttpMethod,
        headers: forwardedHeaders(request.rawHeaders, this.#options.dropAuthorization),
        body: request.body,
        signal: callSignal.signal,
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      const body = await readLimited(response.body, this.#options.resultSizeLimitBytes);
      if (body === undefined) {
        return { ok: false, error: taskError('result_too_large', this.#limitText()) };
      }
      const headers = response.headers as Record<string, string | string[]>;
      const contentType = headers['content-type'];
      return {
        ok: true,
        statusCode: response.statusCode,
        headers,
        body,
        contentType: typeof contentType === 'string' ? contentType : contentType?.[0],
      };
    } catch (error) {
      if (!callSignal.signal.aborted) return { ok: false, error: taskErrorOf(error) };
      // Only two things abort a call: the configured timeout, and shutdown cutting it off.
      return callSignal.signal.reason === TIMED_OUT
        ? { ok: false, error: taskError('upstream_timeout', `after ${this.#options.timeoutMs} ms`) }
        : { ok: false, error: taskError('interrupted') };
    } finally {
      callSignal.dispose();
      this.#inFlight--;
    }
  }

  /**
   * Whether the target gives any HTTP answer to a short `HEAD` of its base path; concurrent
   * probes share one request.
   */
  probe(): Promise<ProbeResult> {
    this.#probe ??= this.#runProbe().finally(() => {
      this.#probe = null;
    });
    return this.#probe;
  }

  async close(): Promise<void> {
    if (!this.#ownsDispatcher) return;
    await Promise.all([this.#dispatcher.destroy(), this.#probeDispatcher.destroy()]);
  }

  async #runProbe(): Promise<ProbeResult> {
    const started = performance.now();
    try {
      const response = await this.#probeDispatcher.request({
        origin: this.#options.target.origin,
        path: this.#options.target.basePath || '/',
        method: 'HEAD',
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
        headersTimeout: PROBE_TIMEOUT_MS,
        bodyTimeout: PROBE_TIMEOUT_MS,
      });
      await response.body.dump();
      return { reachable: true, latencyMs: Math.round(performance.now() - started) };
    } catch {
      return { reachable: false, latencyMs: null };
    }
  }

  /** The caller's signal, plus the configured total timeout when there is one. */
  #withTimeout(signal: AbortSignal): { signal: AbortSignal; dispose(): void } {
    const timeoutMs = this.#options.timeoutMs;
    if (timeoutMs === null) return { signal, dispose() {} };
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(TIMED_OUT), timeoutMs);
    const onAbort = () => controller.abort(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    return {
      signal: controller.signal,
      dispose() {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      },
    };
  }

  #limitText(): string {
    return `limit ${this.#options.resultSizeLimitBytes} bytes`;
  }
}

/** The whole body, or undefined as soon as it grows past `limit` (the rest is not read). */
async function readLimited(
  body: Dispatcher.ResponseData['body'],
  limit: number,
): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 && chunks[0] ? Buffer.from(chunks[0]) : Buffer.concat(chunks, size);
}
