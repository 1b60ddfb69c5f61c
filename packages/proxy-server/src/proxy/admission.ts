import type { Clock } from '../clock.js';
import { binaryStringOf, packHeaders } from '../engine/stored-request.js';
import type { TaskBackend } from '../engine/task-backend.js';
import { newTaskId } from '../engine/task-id.js';
import { estimateInputs, queueWaitMs, retryAfterSeconds } from './estimates.js';
import type { Lifecycle } from './lifecycle.js';
import type { Totals } from './totals.js';

export interface Submission {
  method: string;
  /** Origin-form path as submitted, query string included. */
  path: string;
  rawHeaders: readonly string[];
  /** The body as received, in chunks; null when empty. */
  body: readonly Buffer[] | null;
}

export type SubmitResult =
  | { ok: true; taskId: string }
  | { ok: false; reason: 'queue_full'; retryAfterS: number }
  | { ok: false; reason: 'shutting_down' };

const QUEUE_FULL_RETRY_AFTER_S = { min: 1, max: 3600 } as const;

/** Admits requests as pending tasks, or says why not; never waits on the target. */
export class Admission {
  constructor(
    private readonly backend: TaskBackend,
    private readonly lifecycle: Lifecycle,
    private readonly totals: Totals,
    private readonly concurrency: number,
    private readonly clock: Clock,
  ) {}

  async submit(submission: Submission): Promise<SubmitResult> {
    if (this.lifecycle.shuttingDown) return { ok: false, reason: 'shutting_down' };
    const id = newTaskId();
    const { method, path, body } = submission;
    const admitted = await this.backend.admit({
      id,
      createdAt: this.clock.now(),
      request: {
        method,
        path,
        headers: packHeaders(submission.rawHeaders),
        body: body === null ? null : binaryStringOf(body),
      },
    });
    if (!admitted.ok) {
      this.totals.rejectedQueueFull++;
      return {
        ok: false,
        reason: 'queue_full',
        retryAfterS: await this.#retryAfterS(admitted.queued),
      };
    }
    return { ok: true, taskId: id };
  }

  /** Seconds until the queue should have room: its length at the observed pace. */
  async #retryAfterS(queued: number): Promise<number> {
    const now = this.clock.now();
    const { oldestStartedAt } = await this.backend.counts();
    const inputs = estimateInputs(
      this.totals.avgProcessingMs,
      oldestStartedAt,
      this.concurrency,
      now,
    );
    const { min, max } = QUEUE_FULL_RETRY_AFTER_S;
    return retryAfterSeconds(queueWaitMs(queued, inputs), min, max);
  }
}
