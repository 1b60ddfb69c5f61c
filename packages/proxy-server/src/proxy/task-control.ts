import { isTerminalStatus, type Task } from 'proxy-client/wire';
import type { CancelResult, TaskBackend } from '../engine/task-backend.js';
import type { Admission, SubmitResult } from './admission.js';
import type { RequestOrigins } from './request-origins.js';
import type { TaskViews } from './task-views.js';

export type CancelAnswer =
  | { ok: true; task: Task }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'finished'; task: Task };

export type RetryAnswer =
  | SubmitResult
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'not_finished'; task: Task };

/** Acting on a task once submitted: cancel it, or submit it again once finished. */
export class TaskControl {
  constructor(
    private readonly backend: TaskBackend,
    private readonly admission: Admission,
    private readonly views: TaskViews,
    private readonly origins?: RequestOrigins,
  ) {}

  /** `requestId`: the HTTP request's, for the log line of the cancel. */
  async cancel(id: string, requestId?: string): Promise<CancelAnswer> {
    this.origins?.expect(id, requestId);
    let answer: CancelResult | undefined;
    try {
      answer = await this.backend.cancel(id);
    } finally {
      if (!answer?.ok) this.origins?.forget(id);
    }
    if (!answer.ok && answer.reason === 'not_found') return answer;
    const task = await this.views.toWire(answer.task);
    return answer.ok ? { ok: true, task } : { ok: false, reason: 'finished', task };
  }

  /** A new task from a finished task's stored request, linked to it both ways. */
  async retry(id: string, callerAddress: string, requestId?: string): Promise<RetryAnswer> {
    const original = await this.backend.get(id);
    if (!original) return { ok: false, reason: 'not_found' };
    if (!isTerminalStatus(original.status)) {
      return { ok: false, reason: 'not_finished', task: await this.views.toWire(original) };
    }
    const request = await this.backend.getRequest(id);
    if (!request) return { ok: false, reason: 'not_found' };
    return this.admission.resubmit(request, id, callerAddress, requestId);
  }
}
