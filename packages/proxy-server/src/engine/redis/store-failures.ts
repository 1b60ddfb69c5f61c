import { type StoreUnavailableError, storeUnavailable } from '../store-unavailable.js';
import { aclGrant, isAclDenial } from './acl-denial.js';

/** Redis did not answer (no connection, or no reply within the command timeout). */
export class RedisUnreachableError extends Error {
  override readonly name = 'RedisUnreachableError';
}

/** The store's last failure, until an operation succeeds again: what `health()` reports. */
export class StoreFailures {
  readonly #onError: ((error: unknown, doing: string) => void) | undefined;
  #message: string | null = null;
  #unreachable = false;

  constructor(onError?: (error: unknown, doing: string) => void) {
    this.#onError = onError;
  }

  get message(): string | null {
    return this.#message;
  }

  /**
   * Whether the failure standing is one to reach Redis (no connection, no answer in time): Redis
   * is away. A write it refused (out of memory, say) came from a Redis that answers.
   */
  get unreachable(): boolean {
    return this.#message !== null && this.#unreachable;
  }

  /** Notes that `doing` failed, logs it, and gives the error a backend throws for it. */
  failed(error: unknown, doing: string): StoreUnavailableError {
    this.#onError?.(error, doing);
    return this.noted(error, doing);
  }

  /** As `failed`, for a failure logged already (the same outage): noted for `health()` only. */
  noted(error: unknown, doing: string): StoreUnavailableError {
    const reason = error instanceof Error ? error.message : String(error);
    this.#message = `the task store failed ${doing}: ${reason}`;
    this.#unreachable = isUnreachable(error);
    return storeUnavailable(`the task store failed ${doing}`, error);
  }

  /** A write went through: whatever failed before works again. */
  succeeded(): void {
    this.#message = null;
  }

  /**
   * A read went through: Redis answers again. A write Redis refused (out of memory, say) may
   * still fail, so only a failure to reach it is cleared.
   */
  answered(): void {
    if (this.#unreachable) this.#message = null;
  }
}

/** ioredis's errors for a command sent on a connection that has gone (offline queue off). */
export function isConnectionLoss(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.message.startsWith("Stream isn't writeable") ||
      error.message === 'Connection is closed.')
  );
}

/** ioredis's error for a command Redis did not answer within the command timeout. */
export function isCommandTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === 'Command timed out';
}

export function isUnreachable(error: unknown): boolean {
  return (
    error instanceof RedisUnreachableError || isConnectionLoss(error) || isCommandTimeout(error)
  );
}

/** Redis's words for a write over its maxmemory (under maxmemory-policy noeviction). */
const FULL = /^OOM command not allowed/;

/**
 * A refusal from a Redis that answers, with what the operator can do about it: Redis's words
 * name the fault (a command its ACL denies, its maxmemory reached), not the remedy, and a
 * denied command is often one the operator never heard of (XADD, run inside a script).
 */
export function withRemedy(error: unknown, user: string, prefix: string): unknown {
  if (!(error instanceof Error)) return error;
  let remedy: string;
  if (isAclDenial(error)) {
    remedy = `Redis user ${user} lacks a command or key the proxy needs; give it every command on the prefix's keys: ${aclGrant(user, prefix)}`;
  } else if (FULL.test(error.message)) {
    remedy =
      'Redis is at its maxmemory; raise it, or keep fewer finished tasks (--retention, --max-tasks, DELETE /tasks/cleanup)';
  } else {
    return error;
  }
  return new Error(`${error.message.replace(/\.$/, '')}: ${remedy}`, { cause: error });
}
