import { optionLabel } from '../check-options.js';
import {
  callbackUrlFault,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  MAX_TASK_HEADER_SECONDS,
  MAX_WAIT_SECONDS,
  PRIORITIES,
  type Priority,
  SUBMIT_HEADERS,
} from '../wire.js';

/** What a submission asks of the proxy itself, as opposed to what it forwards to the target. */
export interface SubmitControls {
  idempotencyKey?: string | undefined;
  /** Seconds the proxy may hold the answer for the task to finish (`Prefer: wait=N`). */
  waitSeconds?: number | undefined;
  priority?: string | undefined;
  callbackUrl?: string | undefined;
  /** Most upstream calls for this task, the first included (the proxy's own cap still holds). */
  maxAttempts?: number | undefined;
  /** Milliseconds the task may wait in the queue before it ends `expired`. */
  maxQueueTimeMs?: number | undefined;
  /** Milliseconds one upstream call of this task may take (the proxy's own cap still holds). */
  upstreamTimeoutMs?: number | undefined;
}

/**
 * The headers for `controls`. Values are checked first, so a typo is a TypeError now rather
 * than a 400 later, or a priority the proxy silently ignores.
 */
export function controlHeaders(controls: SubmitControls): Record<string, string> {
  const headers: Record<string, string> = {};
  if (controls.idempotencyKey !== undefined) {
    // A structured-field string, as the IETF Idempotency-Key draft writes it.
    headers[SUBMIT_HEADERS.idempotencyKey] = `"${checkIdempotencyKey(controls.idempotencyKey)}"`;
  }
  if (controls.waitSeconds !== undefined && controls.waitSeconds > 0) {
    headers[SUBMIT_HEADERS.prefer] = `wait=${controls.waitSeconds}`;
  }
  if (controls.priority !== undefined) {
    headers[SUBMIT_HEADERS.priority] = checkPriority(controls.priority);
  }
  if (controls.callbackUrl !== undefined) {
    headers[SUBMIT_HEADERS.callbackUrl] = checkCallbackUrl(controls.callbackUrl);
  }
  if (controls.maxAttempts !== undefined) {
    headers[SUBMIT_HEADERS.maxAttempts] = String(checkMaxAttempts(controls.maxAttempts));
  }
  if (controls.maxQueueTimeMs !== undefined) {
    headers[SUBMIT_HEADERS.maxQueueTime] = headerSeconds(controls.maxQueueTimeMs, 'maxQueueTimeMs');
  }
  if (controls.upstreamTimeoutMs !== undefined) {
    headers[SUBMIT_HEADERS.timeout] = headerSeconds(
      controls.upstreamTimeoutMs,
      'upstreamTimeoutMs',
    );
  }
  return headers;
}

function checkMaxAttempts(value: number): number {
  if (!(Number.isSafeInteger(value) && value >= 1)) {
    throw new RangeError(`maxAttempts must be a whole number, 1 or more, got ${value}`);
  }
  return value;
}

/**
 * Milliseconds as the header's seconds: at least 1 ms, since the proxy reads 0 as malformed, and
 * at most the year it accepts.
 */
function headerSeconds(ms: number, name: string): string {
  if (!(ms >= 1 && ms <= MAX_TASK_HEADER_SECONDS * 1000)) {
    throw new RangeError(
      `${name} must be a number of milliseconds from 1 to ${MAX_TASK_HEADER_SECONDS * 1000} (a year), got ${ms}`,
    );
  }
  return String(Math.round(ms) / 1000);
}

/**
 * `Prefer: wait=N` in whole seconds (the header's unit), rounded up, capped at what the proxy
 * honours; 0 for none.
 */
export function preferWaitSeconds(waitMs: number | undefined): number {
  if (waitMs === undefined) return 0;
  if (!(Number.isFinite(waitMs) && waitMs >= 0)) {
    throw new RangeError(
      `${optionLabel('waitMs')} must be a number of milliseconds (0 or more), got ${waitMs}`,
    );
  }
  return Math.min(MAX_WAIT_SECONDS, Math.ceil(waitMs / 1000));
}

function checkIdempotencyKey(key: string): string {
  if (
    typeof key !== 'string' ||
    key.length === 0 ||
    key.length > MAX_IDEMPOTENCY_KEY_LENGTH ||
    !/^[\x20-\x7e]+$/.test(key) ||
    /["\\]/.test(key)
  ) {
    throw new TypeError(
      `idempotencyKey must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters ` +
        `without '"' or '\\', got ${JSON.stringify(key)}`,
    );
  }
  return key;
}

function checkPriority(priority: string): Priority {
  const known = PRIORITIES.find((level) => level === priority);
  if (known === undefined) {
    throw new TypeError(
      `priority must be one of ${PRIORITIES.join(', ')}, got ${JSON.stringify(priority)}`,
    );
  }
  return known;
}

function checkCallbackUrl(value: string): string {
  if (typeof value !== 'string') {
    throw new TypeError(
      `${optionLabel('callbackUrl')} must be an absolute http(s) URL string, got ${typeof value}`,
    );
  }
  const fault = callbackUrlFault(optionLabel('callbackUrl'), value);
  if (fault !== undefined) throw new TypeError(fault);
  return value;
}

/**
 * A fresh idempotency key for one submission and its retries. `crypto.randomUUID` needs a secure
 * context in browsers; `getRandomValues` works everywhere `fetch` does.
 */
export function newIdempotencyKey(): string {
  const { crypto } = globalThis;
  if (typeof crypto.randomUUID === 'function') return `proxy-client-${crypto.randomUUID()}`;
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `proxy-client-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * The caller's headers with the controls' over them; a `Prefer` of the caller's (the proxy
 * forwards preferences other than its own `wait`) is joined after the controls' `wait`, not
 * replaced by it, whatever the case of its name. A `Prefer` in the client's own headers is
 * replaced by a call's `wait` (the transport puts a call's headers over the client's).
 */
export function withControlHeaders(
  headers: Readonly<Record<string, string>> | undefined,
  control: Readonly<Record<string, string>>,
): Record<string, string> {
  const merged: Record<string, string> = { ...headers, ...control };
  const wait = control[SUBMIT_HEADERS.prefer];
  const callers = Object.keys(headers ?? {}).find(
    (name) => name.toLowerCase() === SUBMIT_HEADERS.prefer,
  );
  const theirs = callers === undefined ? '' : (headers?.[callers]?.trim() ?? '');
  if (wait === undefined || callers === undefined) return merged;
  delete merged[callers];
  // The proxy honours the first wait it reads: this call's, not one in the caller's header.
  merged[SUBMIT_HEADERS.prefer] = theirs === '' ? wait : `${wait}, ${theirs}`;
  return merged;
}
