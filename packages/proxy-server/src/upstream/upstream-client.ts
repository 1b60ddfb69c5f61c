import { type Dispatcher, Pool } from 'undici';
import type { Clock } from '../clock.js';
import type { TargetConfig } from '../config/config.js';
import { taskError } from '../engine/task-error.js';
import { ANSWER_HEADER_LIMIT_BYTES } from './answer-header-limit.js';
import { PoolSockets } from './pool-sockets.js';
import { forwardedHeaders } from './request-headers.js';
import { UpstreamCall, type UpstreamCallLimits, type UpstreamOutcome } from './upstream-call.js';

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
  /** The most calls the caller makes at once; the pool is sized from it. */
  maxInFlight: number;
  /** Drop the incoming `Authorization` header: it carried the proxy's own API key. */
  dropAuthorization: boolean;
  /** Times the pauses of a call waiting for a file descriptor. */
  clock: Clock;
  /** A call found no file descriptor for its socket, and waits for one. */
  onOutOfDescriptors?: () => void;
}

/** Establishing a TCP/TLS connection is bounded on purpose; once connected nothing cuts a call. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * A call without a file descriptor tries again after these pauses, doubling: it waits for one to
 * free (another call ending, a client leaving) instead of failing a task that never went out.
 */
const FIRST_DESCRIPTOR_PAUSE_MS = 50;
const LONGEST_DESCRIPTOR_PAUSE_MS = 2_000;

/**
 * A quarter more connections than calls: undici releases a connection for its next request only
 * after a check phase, so a call that starts right after another ended would wait for it; with
 * spares it starts on an idle connection at once. The cap on calls in flight is the caller's.
 */
function poolSizeFor(maxInFlight: number): number {
  return maxInFlight + Math.ceil(maxInFlight / 4);
}

/**
 * The one way to the target: an undici `Pool` bound to the target's origin with keep-alive and
 * undici's 300 s header/body timeouts switched off, so only a configured timeout ends a call.
 * `dispatcher` replaces the pool in tests (e.g. undici's MockAgent).
 */
export class UpstreamClient {
  readonly #options: UpstreamOptions;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  /** The pool's sockets; none to watch with a dispatcher from outside. */
  readonly #sockets: PoolSockets | undefined;
  readonly #limits: { resultSizeLimitBytes: number; timeoutMs: number | null };
  /**
   * Requests undici holds: the calls under way, and those stopped while their connect stalls,
   * which settled but stay in the pool until the connect ends (up to the connect timeout). At
   * the pool's size a call waits for one of them to go, in `#waiting`, so calls stopped one
   * after another (cancels, short timeouts) against a target that takes no connection never
   * pile their requests up in the pool, bodies and all.
   */
  #held = 0;
  readonly #mostHeld: number;
  /** Calls waiting for room, in order; one stopped while it waits leaves at once, body and all. */
  readonly #waiting = new Set<() => void>();

  constructor(options: UpstreamOptions, dispatcher?: Dispatcher) {
    this.#options = options;
    this.#limits = {
      resultSizeLimitBytes: options.resultSizeLimitBytes,
      timeoutMs: options.timeoutMs,
    };
    this.#ownsDispatcher = dispatcher === undefined;
    this.#mostHeld = poolSizeFor(options.maxInFlight);
    if (dispatcher) {
      this.#sockets = undefined;
      this.#dispatcher = dispatcher;
      return;
    }
    this.#sockets = new PoolSockets();
    this.#dispatcher = new Pool(options.target.origin, {
      connections: this.#mostHeld,
      pipelining: 1,
      headersTimeout: 0,
      bodyTimeout: 0,
      connect: this.#sockets.connector({ timeout: CONNECT_TIMEOUT_MS }),
      maxHeaderSize: ANSWER_HEADER_LIMIT_BYTES,
    });
  }

  /**
   * Makes the call; never rejects: a failure is an outcome with the task error. An abort of
   * `signal` (shutdown, cancel) ends the call with `interrupted`. `timeoutMs` replaces the
   * configured timeout for this call (a task's own, already capped by it). A call that finds no
   * file descriptor for its socket waits for one, within its timeout.
   */
  async send(
    request: UpstreamRequest,
    signal: AbortSignal,
    timeoutMs: number | null = null,
  ): Promise<UpstreamOutcome> {
    const { clock } = this.#options;
    const limits: UpstreamCallLimits = {
      resultSizeLimitBytes: this.#limits.resultSizeLimitBytes,
      timeoutMs: timeoutMs ?? this.#limits.timeoutMs,
      head: request.method === 'HEAD',
    };
    const startedAt = clock.monotonic();
    const leftMs = () =>
      limits.timeoutMs === null ? null : limits.timeoutMs - (clock.monotonic() - startedAt);
    let waited = false;
    for (let pauseMs = FIRST_DESCRIPTOR_PAUSE_MS; ; ) {
      // Stopped or cancelled (while waiting, say): no connection is opened only to be dropped.
      if (signal.aborted) return { ok: false, error: taskError('interrupted') };
      const left = leftMs();
      const outcome = await this.#sendOnce(
        request,
        signal,
        waited && left !== null ? { ...limits, leftMs: left } : limits,
      );
      if (outcome.ok || !outcome.outOfDescriptors || signal.aborted) return outcome;
      // Out of time before the next try: the cause says more than a timeout would.
      const still = leftMs();
      if (still !== null && still <= pauseMs) return outcome;
      this.#options.onOutOfDescriptors?.();
      await pauseFor(clock, pauseMs, signal);
      waited = true;
      pauseMs = Math.min(2 * pauseMs, LONGEST_DESCRIPTOR_PAUSE_MS);
    }
  }

  #sendOnce(
    request: UpstreamRequest,
    signal: AbortSignal,
    limits: UpstreamCallLimits,
  ): Promise<UpstreamOutcome> {
    return new Promise((resolve) => {
      const onAbort = () => call.stop('interrupted');
      const dispatch = () => this.#dispatch(request, call);
      const call = new UpstreamCall(
        limits,
        (outcome) => {
          signal.removeEventListener('abort', onAbort);
          this.#waiting.delete(dispatch);
          resolve(outcome);
        },
        () => this.#release(),
        this.#sockets,
      );
      if (signal.aborted) call.stop('interrupted');
      else signal.addEventListener('abort', onAbort);
      if (this.#held < this.#mostHeld) dispatch();
      else if (!call.settled) this.#waiting.add(dispatch);
    });
  }

  /** Hands the call to undici, unless it was stopped while it waited for room. */
  #dispatch(request: UpstreamRequest, call: UpstreamCall): void {
    if (call.settled) return;
    this.#held++;
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
  }

  #release(): void {
    this.#held--;
    while (this.#held < this.#mostHeld) {
      const [next] = this.#waiting;
      if (next === undefined) return;
      this.#waiting.delete(next);
      next();
    }
  }

  async close(): Promise<void> {
    if (!this.#ownsDispatcher) return;
    await this.#dispatcher.destroy();
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pauseFor(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clock.clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
