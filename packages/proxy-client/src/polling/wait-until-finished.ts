import { checkIsNumber, optionLabel } from '../check-options.js';
import { isProxyBack, isProxyOutage } from '../errors/outage.js';
import { ProxyError } from '../errors/proxy-error.js';
import { TaskFailedError } from '../errors/task-failed-error.js';
import { WaitTimeoutError } from '../errors/wait-timeout-error.js';
import { notify } from '../notify.js';
import type { WaitOptions } from '../options.js';

/** `WaitOptions` once checked, with the unit-less aliases folded into their `Ms` names. */
export type WaitSettings = Pick<
  WaitOptions,
  'timeoutMs' | 'pollIntervalMs' | 'signal' | 'onStatus' | 'onOutage' | 'throwOnFailure'
>;

import { MAX_TIMER_MS } from '../timer-limit.js';
import { isTaskStatus, isTerminalStatus, type Task, type TaskStatus } from '../wire.js';
import {
  adaptivePollDelay,
  MAX_OUTAGE_MS,
  MIN_HINT_DELAY_MS,
  outagePauseMs,
  pollCeilingMs,
  withJitter,
} from './schedule.js';
import { sleep, untilAborted } from './sleep.js';

/** One answer of `GET /task/:id`, with the hints its headers carried. */
export interface TaskRead {
  task: Task;
  /** `x-proxy-wait-max`: the server holds `?wait=N` reads up to this many seconds. */
  waitMaxSeconds: number | undefined;
  /** `Retry-After` on a pending task, in milliseconds: when the server suggests asking again. */
  retryAfterMs: number | undefined;
}

export type ReadTask = (options: {
  waitSeconds: number | undefined;
  signal: AbortSignal | undefined;
}) => Promise<TaskRead>;

/**
 * A held read that fails as an outage after at least this long was cut on the way, not refused:
 * something between the client and the proxy (a gateway's read timeout: nginx's 60 s, a load
 * balancer's 30 s) ends requests that stay silent that long. A proxy that dies mid-read looks
 * the same, but the read after it is refused at once: a cut followed by a refusal is forgotten,
 * or every read after the restart would hold a second or two for the rest of the wait.
 */
const MIN_CUT_MS = 1_000;

/**
 * The hold to ask for after a held read of `holdSeconds` failed after `heldForMs`: undefined when
 * it was not cut on the way (no hold, not an outage, or refused at once: see MIN_CUT_MS); else
 * half of what got through, 0 for none. Halving, rather than holding as long again, finds a
 * gateway's read timeout in a few reads instead of being cut until the wait gives up.
 */
export function holdAfterCut(
  error: unknown,
  heldForMs: number,
  holdSeconds: number,
): number | undefined {
  if (holdSeconds <= 0 || heldForMs < MIN_CUT_MS || !isProxyOutage(error)) return undefined;
  return Math.floor(Math.min(heldForMs / 1000, holdSeconds) / 2);
}

/** The abort reason of the wait's own deadline, told apart from the caller's signal. */
const DEADLINE = Symbol('wait deadline');

/**
 * Reads the task until it is finished. The first read is immediate. After that, when the server
 * offers a waiting read, each read is held by the server until the task finishes; otherwise the
 * next read comes after `pollIntervalMs`, else the server's `Retry-After`, else the adaptive
 * schedule (both capped by the fixed schedule for the task's age). Once the task has been read, a
 * proxy away for a while (no answer, or a 502/503/504: a restart, a deploy) is waited out, up to
 * MAX_OUTAGE_MS: the task goes on without the proxy's answers, and a durable store still has it
 * when the proxy is back.
 */
export async function waitUntilFinished(
  taskId: string,
  read: ReadTask,
  options: WaitSettings = {},
  /**
   * The proxy has already answered for the task (a submission's answer named it), so a proxy
   * away at the first read is waited out too: a restart during a held submission.
   */
  taskSeen = false,
): Promise<Task> {
  const { timeoutMs: timeout, signal: callerSignal } = options;
  validateWaitOptions(options);
  callerSignal?.throwIfAborted();

  const deadline =
    timeout === undefined || timeout === Infinity ? undefined : new AbortController();
  const timer = deadline ? setTimeout(() => deadline.abort(DEADLINE), timeout) : undefined;
  const signals = [callerSignal, deadline?.signal].filter((s) => s !== undefined);
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  const deadlineAt = timeout === undefined ? Infinity : performance.now() + timeout;
  const state: { last: Task | undefined } = { last: undefined };
  try {
    return await pollUntilFinished(taskId, read, options, signal, deadlineAt, state, taskSeen);
  } catch (error) {
    if (deadline?.signal.aborted && !callerSignal?.aborted) {
      throw new WaitTimeoutError(taskId, timeout ?? 0, state.last, taskSeen);
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

async function pollUntilFinished(
  taskId: string,
  read: ReadTask,
  options: WaitSettings,
  signal: AbortSignal | undefined,
  deadlineAt: number,
  state: { last: Task | undefined },
  taskSeen: boolean,
): Promise<Task> {
  const startedAt = performance.now();
  let ageAtStartMs: number | undefined;
  let previous: TaskStatus | undefined;
  let attempt = 0;
  let waitSeconds: number | undefined;
  /** The longest hold the way to the proxy lets through, once a held read was cut. */
  let holdCapSeconds = Number.POSITIVE_INFINITY;
  /** The cap before the last cut, until a read gets through: see MIN_CUT_MS. */
  let capBeforeCut: number | undefined;
  let outages = 0;
  let awaySince = 0;

  for (;;) {
    const requestedAt = performance.now();
    const heldSeconds = waitSeconds;
    let answer: TaskRead;
    try {
      answer = await read({ waitSeconds, signal });
    } catch (error) {
      const seen = taskSeen || state.last !== undefined;
      if (outages > 0 && isProxyBack(error)) notify(options.onOutage, undefined);
      if (!seen || signal?.aborted || !isProxyOutage(error)) throw error;
      const cutHold = holdAfterCut(error, performance.now() - requestedAt, waitSeconds ?? 0);
      if (cutHold !== undefined) {
        // The next reads hold no longer than this, down to none (plain polling).
        capBeforeCut ??= holdCapSeconds;
        holdCapSeconds = cutHold;
        waitSeconds = holdCapSeconds >= 1 ? holdCapSeconds : undefined;
        continue;
      }
      if (capBeforeCut !== undefined) {
        holdCapSeconds = capBeforeCut;
        capBeforeCut = undefined;
      }
      if (outages === 0) {
        awaySince = requestedAt;
        notify(options.onOutage, error as ProxyError);
      }
      if (performance.now() - awaySince >= MAX_OUTAGE_MS) throw error;
      await sleep(outagePauseMs(outages), signal);
      outages += 1;
      continue;
    }
    if (outages > 0) notify(options.onOutage, undefined);
    outages = 0;
    capBeforeCut = undefined;
    const { task } = answer;
    if (!isTaskStatus(task.status)) {
      throw new ProxyError(
        'unknown_status',
        `Task ${taskId} has status ${JSON.stringify(task.status)}, which this version of ` +
          'proxy-client does not know; stopped waiting rather than poll forever',
      );
    }
    state.last = task;
    if (task.status !== previous) {
      const before = previous;
      previous = task.status;
      await untilAborted(Promise.resolve(options.onStatus?.(task, before)), signal);
    }
    if (isTerminalStatus(task.status)) {
      // Any end but `completed` (failed, and statuses such as cancelled) has no answer to give.
      if (options.throwOnFailure && task.status !== 'completed') throw new TaskFailedError(task);
      return task;
    }

    ageAtStartMs ??= taskAgeMs(task);
    const ageMs = ageAtStartMs + (performance.now() - startedAt);
    const delayMs = nextDelayMs(options.pollIntervalMs, answer.retryAfterMs, ageMs, attempt);
    attempt += 1;
    waitSeconds = waitingReadSeconds(answer.waitMaxSeconds, deadlineAt, holdCapSeconds);
    // A waiting read needs no pause before it, unless the last one came back early (a server
    // that does not really hold): then reads still keep to the schedule's pace. A hold ends
    // early only when the task finishes, so one under half of what was asked was no hold; a
    // whole one, however short (`--max-wait 1`), is followed at once.
    const cameBackEarly =
      heldSeconds !== undefined && performance.now() - requestedAt < (heldSeconds * 1000) / 2;
    const pauseMs =
      waitSeconds !== undefined && !cameBackEarly ? 0 : requestedAt + delayMs - performance.now();
    if (pauseMs > 0) await sleep(pauseMs, signal);
  }
}

function nextDelayMs(
  pollInterval: number | undefined,
  retryAfterMs: number | undefined,
  ageMs: number,
  attempt: number,
): number {
  if (pollInterval !== undefined) return pollInterval;
  if (retryAfterMs !== undefined) {
    return Math.min(Math.max(retryAfterMs, MIN_HINT_DELAY_MS), pollCeilingMs(ageMs));
  }
  return withJitter(adaptivePollDelay(ageMs, attempt));
}

/**
 * `?wait=` for the next read: up to the server's maximum and the hold the way to the proxy lets
 * through, never past the wait's own deadline; none (plain polling) when either is under 1 s.
 */
function waitingReadSeconds(
  waitMaxSeconds: number | undefined,
  deadlineAt: number,
  holdCapSeconds: number,
): number | undefined {
  if (waitMaxSeconds === undefined || holdCapSeconds < 1) return undefined;
  const remainingSeconds = Math.ceil((deadlineAt - performance.now()) / 1000);
  return Math.max(1, Math.min(waitMaxSeconds, holdCapSeconds, remainingSeconds));
}

/**
 * The task's age from the server's own durations, so a skewed client clock does not matter and a
 * wait on an old task starts at the right place in the schedule.
 */
export function taskAgeMs(task: Task): number {
  const queued = Number.isFinite(task.queue_ms) ? task.queue_ms : 0;
  const processing = Number.isFinite(task.duration_ms) ? (task.duration_ms ?? 0) : 0;
  return Math.max(0, queued + processing);
}

export function validateWaitOptions({ pollIntervalMs, timeoutMs }: WaitSettings): void {
  checkIsNumber('pollIntervalMs', pollIntervalMs);
  checkIsNumber('timeoutMs', timeoutMs);
  if (pollIntervalMs !== undefined && !(pollIntervalMs > 0 && pollIntervalMs <= MAX_TIMER_MS)) {
    throw new RangeError(
      `${optionLabel('pollIntervalMs')} must be a number of milliseconds above 0 and at most ${MAX_TIMER_MS} (a timer's longest), got ${pollIntervalMs}`,
    );
  }
  if (
    timeoutMs !== undefined &&
    timeoutMs !== Infinity &&
    !(timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS)
  ) {
    throw new RangeError(
      `${optionLabel('timeoutMs')} must be a number of milliseconds above 0 and at most ${MAX_TIMER_MS} (a timer's longest), or Infinity, got ${timeoutMs}`,
    );
  }
}
