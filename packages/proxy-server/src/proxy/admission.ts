import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SUBMIT_HEADERS } from 'proxy-client/wire';
import type { Clock } from '../clock.js';
import { isStoreUnavailableError } from '../engine/store-unavailable.js';
import { binaryStringOf, headerMapOf, packHeaders } from '../engine/stored-request.js';
import type { AdmitResult, TaskBackend } from '../engine/task-backend.js';
import { newTaskId } from '../engine/task-id.js';
import type { NewTask, TaskRequest } from '../engine/task-record.js';
import type { Refusal } from '../metrics/proxy-metrics.js';
import { estimateInputs, type Pace, queueWaits, retryAfterSeconds } from './estimates.js';
import type { InFlightReads } from './in-flight-reads.js';
import type { Lifecycle } from './lifecycle.js';
import type { RequestOrigins } from './request-origins.js';
import type { TaskPolicies } from './task-policies.js';
import type { Totals } from './totals.js';
import { withoutFragment } from './without-fragment.js';

/**
 * Why a submission was refused: the error code its caller gets, or `tasks_full` (`queue_full` on
 * the wire, the store at `--max-tasks`), which the log tells apart.
 */
export type AdmissionRefusal = Refusal | 'tasks_full';

/** Who else hears about admissions: the task log's request ids, the metrics' refusals. */
export interface AdmissionObservers {
  origins?: RequestOrigins;
  refused?: (reason: AdmissionRefusal) => void;
}

export interface Submission {
  method: string;
  /** Origin-form path as submitted, query string included. */
  path: string;
  rawHeaders: readonly string[];
  /** The body as received, in chunks; null when empty. */
  body: readonly Buffer[] | null;
  /** `Idempotency-Key`, already scoped to the caller's API key; null without one. */
  idempotencyKey?: string | null;
  /** The HTTP request's id, for the log line of the task's creation. */
  requestId?: string | undefined;
  /** The headers a caller chooses the delivery policy with (`X-Proxy-*`). */
  headers: IncomingHttpHeaders;
  /** The caller's address (`request.ip`): its tenant with `--fair-key ip`. */
  callerAddress: string;
}

export type SubmitResult =
  /** `existing`: the idempotency key named a task already held with the same request. */
  | { ok: true; taskId: string; existing: boolean }
  | {
      ok: false;
      reason: 'queue_full' | 'tasks_full' | 'tenant_queue_full';
      /** The tasks waiting that made it full (the tenant's, for `tenant_queue_full`). */
      queued: number;
      retryAfterS: number;
    }
  | { ok: false; reason: 'idempotency_conflict'; taskId: string }
  | { ok: false; reason: 'shutting_down' };

const QUEUE_FULL_RETRY_AFTER_S = { min: 1, max: 3600 } as const;

/** Admits requests as pending tasks, or says why not; never waits on the target. */
export class Admission {
  constructor(
    private readonly backend: TaskBackend,
    private readonly lifecycle: Lifecycle,
    private readonly totals: Totals,
    private readonly pace: Pace,
    private readonly clock: Clock,
    private readonly policies: TaskPolicies,
    /** When the calls in flight started, read at most once a second (shared with task views). */
    private readonly inFlight: InFlightReads,
    private readonly observers: AdmissionObservers = {},
  ) {}

  async submit(submission: Submission): Promise<SubmitResult> {
    const { method, path, body } = submission;
    const idempotencyKey = submission.idempotencyKey ?? null;
    // One reading of the clock, so that a deadline is exactly its offset after `created_at`.
    const now = this.clock.now();
    return this.#admit(
      {
        method,
        path,
        headers: packHeaders(submission.rawHeaders),
        body: body === null ? null : binaryStringOf(body),
      },
      {
        idempotencyKey,
        requestHash: idempotencyKey === null ? null : fingerprintOf(submission),
        retryOf: null,
        policy: this.policies.of(submission.headers, now, submission.callerAddress),
      },
      submission.requestId,
      now,
    );
  }

  /**
   * Submits a finished task's stored request again (`POST /task/:id/retry`). Its delivery policy
   * is read again from its headers under the flags as they are now, as for a new submission: a
   * fresh deadline, the caller's timeout, and a callback the allow-list must still take; with
   * `--fair-key ip`, the tenant of the caller who asks for the retry.
   */
  resubmit(
    request: TaskRequest,
    retryOf: string,
    callerAddress: string,
    requestId?: string,
  ): Promise<SubmitResult> {
    const now = this.clock.now();
    const headers = headerMapOf(request.headers);
    // A #fragment an earlier build took is dropped, not refused: the caller cannot change it now.
    const callbackUrl = headers[SUBMIT_HEADERS.callbackUrl];
    if (callbackUrl !== undefined) {
      headers[SUBMIT_HEADERS.callbackUrl] = withoutFragment(callbackUrl);
    }
    const policy = this.policies.of(headers, now, callerAddress);
    return this.#admit(
      request,
      { idempotencyKey: null, requestHash: null, retryOf, policy },
      requestId,
      now,
    );
  }

  async #admit(
    request: TaskRequest,
    links: Pick<NewTask, 'idempotencyKey' | 'requestHash' | 'retryOf' | 'policy'>,
    requestId: string | undefined,
    createdAt: number,
  ): Promise<SubmitResult> {
    const { origins, refused } = this.observers;
    if (this.lifecycle.shuttingDown) {
      refused?.('shutting_down');
      return { ok: false, reason: 'shutting_down' };
    }
    const id = newTaskId();
    origins?.expect(id, requestId);
    let admitted: AdmitResult | undefined;
    try {
      admitted = await this.backend.admit({ id, createdAt, request, ...links });
    } catch (error) {
      if (isStoreUnavailableError(error)) refused?.('store_unavailable');
      throw error;
    } finally {
      if (!admitted?.ok || admitted.existing) origins?.forget(id);
    }
    if (admitted.ok) return admitted;
    if (admitted.reason === 'idempotency_conflict') {
      refused?.('idempotency_key_reused');
      return admitted;
    }
    if (admitted.reason === 'tenant_queue_full') {
      refused?.('tenant_queue_full');
      this.totals.rejectedTenantQueueFull++;
      return {
        ok: false,
        reason: 'tenant_queue_full',
        queued: admitted.queued,
        retryAfterS: await this.#retryAfterS(),
      };
    }
    // Both are `queue_full` on the wire: a 503 to retry later; the message tells them apart.
    refused?.(admitted.reason);
    this.totals.rejectedQueueFull++;
    return {
      ok: false,
      reason: admitted.reason,
      queued: admitted.queued,
      retryAfterS: await this.#retryAfterS(),
    };
  }

  /**
   * Seconds until a place should free: when the next queued task is expected to start, at the
   * observed pace. Not when the whole queue has drained: callers told that come back to an empty
   * queue and an idle target (a queue of 5 behind 3 s calls said 16 s where a place freed in 3).
   * A caller back too early gets another 503, which costs little. The calls in flight are those
   * of the shared read, not a read per refusal: a burst refused by a full queue would otherwise
   * walk every call in flight for each 503 (an O(calls) refusal, several times the cost of an
   * admission with thousands in flight).
   */
  async #retryAfterS(): Promise<number> {
    const inFlightStartedAt = await this.inFlight.startedAt();
    const now = this.clock.now();
    const inputs = estimateInputs(this.totals.avgProcessingMs, inFlightStartedAt, this.pace, now);
    const { min, max } = QUEUE_FULL_RETRY_AFTER_S;
    return retryAfterSeconds(queueWaits(inputs)(1), min, max);
  }
}

/**
 * What makes two submissions the same request for an idempotency key: method, path and query,
 * content type and body bytes. Other headers (dates, trace ids) may differ between two sends of
 * one request and are left out.
 */
function fingerprintOf(submission: Submission): string {
  const hash = createHash('sha256');
  hash.update(
    `${submission.method}\n${submission.path}\n${contentTypeOf(submission.rawHeaders)}\n`,
  );
  for (const chunk of submission.body ?? []) hash.update(chunk);
  return hash.digest('base64url');
}

/** The Content-Type with its media type lower-cased, which RFC 9110 compares ignoring case. */
function contentTypeOf(rawHeaders: readonly string[]): string {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === 'content-type') {
      return (rawHeaders[i + 1] ?? '').replace(/^[^;]*/, (type) => type.trim().toLowerCase());
    }
  }
  return '';
}
