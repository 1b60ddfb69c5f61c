import type { TaskError } from 'proxy-client/wire';
import type { Dispatcher } from 'undici';
import { systemClock, type Timer } from '../clock.js';
import { taskError } from '../engine/task-error.js';
import { AnswerBytes } from './answer-bytes.js';
import {
  isOutOfDescriptors,
  taskErrorOf,
  taskErrorOfCutBody,
  UNASKED_UPGRADE,
} from './error-codes.js';
import { endToEndHeaders } from './hop-by-hop.js';

/** The target's answer, or why there is none. */
export type UpstreamOutcome =
  | {
      ok: true;
      statusCode: number;
      headers: Record<string, string | string[]>;
      body: Buffer;
      contentType: string | undefined;
    }
  | {
      ok: false;
      error: TaskError;
      /** No descriptor for the socket: nothing went out, and the call may be made again. */
      outOfDescriptors?: true;
    };

/** Why this side ended a call: each becomes its own task error. */
type StopReason = 'timeout' | 'interrupted' | 'too_large' | 'status_below_100' | 'unasked_upgrade';

/** Where a call that aborts waits for the socket it destroyed to close. */
export interface SocketCloses {
  /** Runs `destroying`, then resolves once every socket it destroyed has closed. */
  closedAfter(destroying: () => void): Promise<void>;
}

export interface UpstreamCallLimits {
  resultSizeLimitBytes: number;
  /** Total time the call may take; null for none. What a timeout's message names. */
  timeoutMs: number | null;
  /** What is left of `timeoutMs` after waits for a file descriptor: the timer runs this long. */
  leftMs?: number;
  /** A HEAD call: its answer's Content-Length is that of a body it does not carry. */
  head?: boolean;
}

/**
 * One upstream call as an undici dispatch handler: collects the answer's chunks within the result
 * size limit and settles once with an outcome. Used instead of `request()`, which wraps every
 * answer in a stream, because the proxy only ever wants the whole body. The call can be stopped
 * from outside (shutdown) before or after undici starts it.
 */
export class UpstreamCall implements Dispatcher.DispatchHandler {
  readonly #limits: UpstreamCallLimits;
  readonly #settle: (outcome: UpstreamOutcome) => void;
  #controller: Dispatcher.DispatchController | null = null;
  #stopReason: StopReason | null = null;
  #timer: Timer | null = null;
  #settled = false;
  #statusCode = 0;
  #headers: Record<string, string | string[]> = {};
  /** The body's length as the answer declares it; null when it does not, or has no body. */
  #declaredBytes: number | null = null;
  #body = new AnswerBytes();
  readonly #released: (() => void) | undefined;
  readonly #sockets: SocketCloses | undefined;
  /** Aborted by `stop`, its socket not closed yet: undici's failure of it is not its end. */
  #closing = false;
  #undiciDone = false;

  /**
   * `released` is told once undici is done with the call (its answer ended, or its request
   * failed), which may be well after the call settled: see `stop`. With `sockets`, a call it
   * aborts settles only once its socket has closed.
   */
  constructor(
    limits: UpstreamCallLimits,
    settle: (outcome: UpstreamOutcome) => void,
    released?: () => void,
    sockets?: SocketCloses,
  ) {
    this.#limits = limits;
    this.#settle = settle;
    this.#released = released;
    this.#sockets = sockets;
    if (limits.timeoutMs !== null) {
      // On the system clock: X-Proxy-Timeout may ask for up to a year, past Node's longest timer.
      const ms = Math.max(1, limits.leftMs ?? limits.timeoutMs);
      this.#timer = systemClock.setTimeout(() => this.stop('timeout'), ms);
    }
  }

  /** Ends the call from this side; the outcome says why. */
  stop(reason: StopReason): void {
    if (this.#settled || this.#stopReason !== null) return;
    this.#stopReason = reason;
    const stopped = new Error(`upstream call stopped: ${reason}`);
    if (this.#controller) {
      this.#abort(this.#controller, stopped);
      return;
    }
    // undici starts a request only on a connected socket: a connect that stalls (a TLS handshake
    // never answered, SYNs dropped) would hold the stop for undici's whole connect timeout. The
    // call settles now; the request stays with undici until its connect ends, and onRequestStart
    // aborts it then if it ever comes. UpstreamClient bounds how many such requests it leaves.
    this.#finish({ ok: false, error: this.#errorFor(stopped) });
  }

  /**
   * undici fails the request before it destroys the socket, which closes later still: the target
   * holds the call until then. Settled sooner, the call would free its slot for the next one to
   * reach the target while this one is still there, one over the cap the slots keep.
   */
  #abort(controller: Dispatcher.DispatchController, stopped: Error): void {
    const sockets = this.#sockets;
    if (!sockets) {
      controller.abort(stopped);
      return;
    }
    this.#closing = true;
    void sockets
      .closedAfter(() => controller.abort(stopped))
      .then(() => {
        this.#closing = false;
        this.#finish({ ok: false, error: this.#errorFor(stopped) });
        this.#release();
      });
  }

  /** Settled: a dispatch not made yet must not be made. */
  get settled(): boolean {
    return this.#settled;
  }

  /** The dispatch threw before the call could start (e.g. a header undici refuses). */
  fail(error: unknown): void {
    this.#finish({ ok: false, error: taskErrorOf(error) });
    this.#release();
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#stopReason !== null)
      controller.abort(new Error(`upstream call stopped: ${this.#stopReason}`));
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[]>,
  ): void {
    // The parser takes any three digits, and a 101 without both `Upgrade` and `Connection:
    // upgrade` comes here as an interim answer: undici, let go on, fails either call on an
    // assertion of its own that says nothing of the target.
    if (statusCode < 100 || statusCode === 101) {
      this.#statusCode = statusCode;
      this.#controller ??= controller;
      this.stop(statusCode === 101 ? 'unasked_upgrade' : 'status_below_100');
      return;
    }
    // 1xx answers are informational; the real one follows.
    if (statusCode < 200) return;
    this.#statusCode = statusCode;
    this.#headers = endToEndHeaders(headers);
    this.#declaredBytes = this.#hasBody() ? declaredBytesOf(headers['content-length']) : null;
    // Known too large already: counting the bytes as they come would hold the call, and its slot,
    // for as long as the target takes to send them (or forever, should it stall), to fail the same.
    if (this.#declaredBytes !== null && this.#declaredBytes > this.#limits.resultSizeLimitBytes) {
      this.#controller ??= controller;
      this.stop('too_large');
    }
  }

  /** A 204, a 304 or the answer to a HEAD has no body, whatever its Content-Length says. */
  #hasBody(): boolean {
    return !this.#limits.head && this.#statusCode !== 204 && this.#statusCode !== 304;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    // Cleared when it passed the limit: what still comes must not start it again.
    if (this.#stopReason === 'too_large') return;
    if (this.#body.size + chunk.length > this.#limits.resultSizeLimitBytes) {
      this.#body.clear();
      this.#controller ??= controller;
      this.stop('too_large');
      return;
    }
    this.#body.append(chunk);
  }

  onResponseEnd(): void {
    const body = this.#body.bytes();
    const contentType = this.#headers['content-type'];
    this.#finish({
      ok: true,
      statusCode: this.#statusCode,
      headers: this.#headers,
      body,
      contentType: typeof contentType === 'string' ? contentType : contentType?.[0],
    });
    this.#release();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.#closing) return;
    if (this.#isWholeBodilessAnswer(error)) {
      this.onResponseEnd();
      return;
    }
    const unsent = this.#stopReason === null && isOutOfDescriptors(error);
    this.#finish({
      ok: false,
      error: this.#errorFor(error),
      ...(unsent && { outOfDescriptors: true }),
    });
    this.#release();
  }

  /**
   * A 204 or 304 has no body whatever its Content-Length says, and a 304 may give the length its
   * 200 would have had (RFC 9110 §8.6): the parser reads none, but undici (exempting only HEAD)
   * then fails the call for a body shorter than declared. That answer came whole.
   */
  #isWholeBodilessAnswer(error: Error): boolean {
    return (
      this.#stopReason === null &&
      (this.#statusCode === 204 || this.#statusCode === 304) &&
      this.#body.size === 0 &&
      (error as { code?: unknown }).code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH'
    );
  }

  #errorFor(error: Error): TaskError {
    switch (this.#stopReason) {
      case 'timeout':
        return taskError('upstream_timeout', `after ${this.#limits.timeoutMs} ms`);
      case 'interrupted':
        return taskError('interrupted');
      case 'too_large':
        return taskError('result_too_large', this.#tooLargeDetail());
      case 'status_below_100':
        return taskError(
          'upstream_error',
          `the target answered status ${String(this.#statusCode).padStart(3, '0')}: not HTTP, whose statuses start at 100`,
        );
      case 'unasked_upgrade':
        return taskError('upstream_error', UNASKED_UPGRADE);
      default:
        // Past the status and headers, a connection that ends cuts the body short.
        return this.#statusCode >= 200
          ? taskErrorOfCutBody(error, {
              receivedBytes: this.#body.size,
              declaredBytes: this.#declaredBytes,
            })
          : taskErrorOf(error);
    }
  }

  #tooLargeDetail(): string {
    const limit = `limit ${this.#limits.resultSizeLimitBytes} bytes`;
    const declared = this.#declaredBytes;
    return declared !== null && declared > this.#limits.resultSizeLimitBytes
      ? `its Content-Length declares ${declared} bytes, ${limit}`
      : limit;
  }

  #release(): void {
    if (this.#undiciDone) return;
    this.#undiciDone = true;
    this.#released?.();
  }

  #finish(outcome: UpstreamOutcome): void {
    if (this.#settled) return;
    this.#settled = true;
    if (this.#timer) systemClock.clearTimeout(this.#timer);
    this.#body.clear();
    this.#settle(outcome);
  }
}

/** A Content-Length the parser let through is one run of digits; anything else declares none. */
function declaredBytesOf(value: string | string[] | undefined): number | null {
  return typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : null;
}
