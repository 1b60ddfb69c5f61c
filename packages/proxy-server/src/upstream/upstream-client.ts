import { Client, type Dispatcher, Pool } from 'undici';
import type { TargetConfig } from '../config/config.js';
import { forwardedHeaders } from './request-headers.js';
import { UpstreamCall, type UpstreamOutcome } from './upstream-call.js';

export type { UpstreamOutcome } from './upstream-call.js';

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
  readonly #limits: { resultSizeLimitBytes: number; timeoutMs: number | null };
  #probe: Promise<ProbeResult> | null = null;
  #inFlight = 0;

  constructor(options: UpstreamOptions, dispatcher?: Dispatcher) {
    this.#options = options;
    this.#limits = {
      resultSizeLimitBytes: options.resultSizeLimitBytes,
      timeoutMs: options.timeoutMs,
    };
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

  /**
   * Makes the call; never rejects: a failure is an outcome with the task error. An abort of
   * `signal` (shutdown) ends the call with `interrupted`.
   */
  send(request: UpstreamRequest, signal: AbortSignal): Promise<UpstreamOutcome> {
    return new Promise((resolve) => {
      this.#inFlight++;
      const onAbort = () => call.stop('interrupted');
      const call = new UpstreamCall(this.#limits, (outcome) => {
        this.#inFlight--;
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      });
      if (signal.aborted) call.stop('interrupted');
      else signal.addEventListener('abort', onAbort);
      try {
        this.#dispatcher.dispatch(
          {
            origin: this.#options.target.origin,
            path: upstreamPath(this.#options.target.basePath, request.path),
            method: request.method as Dispatcher.HttpMethod,
            headers: forwardedHeaders(request.rawHeaders, this.#options.dropAuthorization),
            body: request.body,
            headersTimeout: 0,
            bodyTimeout: 0,
          },
          call,
        );
      } catch (error) {
        call.fail(error);
      }
    });
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
}
