import { setTimeout as sleep } from 'node:timers/promises';
import {
  isProxyError,
  isProxyOutage,
  isTaskNotFoundError,
  isWaitTimeoutError,
  MAX_OUTAGE_MS,
  outagePauseMs,
} from 'proxy-client';
import { isTaskStatus, isTerminalStatus, type Task, type TaskStatus } from 'proxy-client/wire';
import { CliError } from '../cli-error.js';
import type { CommandContext } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import type { Progress } from '../output.js';
import { formatDuration } from '../render/duration.js';
import { formatStartsIn, msToStart } from '../render/expected-start.js';
import { paintStatus } from '../render/status.js';
import { cliCommand, resumeCommand } from '../resume.js';
import { deadlineFor } from './deadline.js';
import { outageReason } from './watch.js';
import { watchWhilePending } from './watch-pending.js';

const TICK_MS = 100;

/**
 * The task's first read. A proxy that named the task (answering its submission) and then went
 * away (a restart: a stopping proxy answers the submissions it holds) is waited for, as the SDK
 * waits for one that goes away after a read; otherwise the first read fails at once, so a wrong
 * --url is not waited on.
 */
async function firstRead(
  ctx: CommandContext,
  taskId: string,
  signal: AbortSignal,
  named: boolean,
): Promise<Task> {
  const { client, output, options } = ctx;
  let awaySince: number | undefined;
  for (let outages = 0; ; outages++) {
    try {
      const task = await client.getTask(taskId, { signal });
      if (awaySince !== undefined) output.note(`the proxy at ${options.url} is back`);
      return task;
    } catch (error) {
      if (!named || signal.aborted || !isProxyOutage(error)) throw error;
      if (awaySince === undefined) {
        awaySince = performance.now();
        output.note(
          `the proxy at ${options.url} is away${outageReason(error)}; waiting for it to come back`,
        );
      }
      if (performance.now() - awaySince >= MAX_OUTAGE_MS) throw error;
      await sleep(outagePauseMs(outages), undefined, { signal }).catch(() => {
        throw signal.reason;
      });
    }
  }
}

/**
 * Waits for a task to finish, showing its status and age: a spinner on a terminal, one line per
 * status change otherwise, nothing with --json. Ctrl-C and --timeout end the wait (exit 130 and
 * 124) with the command that resumes it; the task itself goes on on the proxy.
 */
export async function waitWithProgress(
  ctx: CommandContext,
  taskId: string,
  /**
   * What is left of `--timeout` when part of it went on the submission; `named`: the proxy's
   * answer to a submission named the task, so a proxy away at the first read is waited for.
   */
  limits: { timeoutMs?: number; named?: boolean } = {},
): Promise<Task> {
  const { client, output, options, signal } = ctx;
  const timeoutMs = limits.timeoutMs ?? options.timeoutMs;
  let latest: Task | undefined;
  let progress: Progress | undefined;
  let ticker: NodeJS.Timeout | undefined;
  let watcher: { stop(): void } | undefined;
  const startedAt = performance.now();
  // --timeout covers the first read too: a proxy that accepts and never answers must not hold
  // the wait past it.
  const deadline = deadlineFor(signal, timeoutMs);
  try {
    const first = await firstRead(ctx, taskId, deadline.signal, limits.named === true);
    if (isTerminalStatus(first.status)) return first;
    latest = first;

    // The task's age comes from the proxy (queue_ms + duration_ms), not from clock differences.
    let seenAt = performance.now();
    /** While the proxy is away: what its absence looked like (` (ECONNREFUSED)`). */
    let away: string | undefined;
    const age = (task: Task) =>
      task.queue_ms + (task.duration_ms ?? 0) + (performance.now() - seenAt);
    const startsIn = (task: Task) => {
      const toStart = task.status === 'pending' ? msToStart(task) : null;
      return toStart === null
        ? ''
        : ` · starts ${formatStartsIn(toStart - (performance.now() - seenAt))}`;
    };
    // The id when a submission's answer named it, and the queue position, are the proxy's words;
    // paintStatus escapes the status. The spinner shows only on a terminal, so escaped as for one.
    const line = (task: Task) =>
      `${paintStatus(task.status, output.errColor)} · ${formatDuration(age(task))} · task ${output.errText(taskId)}` +
      (task.queue_position === null
        ? ''
        : ` · #${output.errText(String(task.queue_position))} in queue`) +
      startsIn(task) +
      (task.is_long_task ? ' · long task' : '') +
      (away === undefined ? '' : ` · proxy away${away}, asking again`);

    const spinner = output.progress(line(first));
    progress = spinner;
    let noted: TaskStatus = first.status;
    if (!output.interactive) output.note(`waiting for task ${taskId} (${noted})`);
    const observe = (task: Task) => {
      latest = task;
      seenAt = performance.now();
      spinner.update(line(task));
      if (!output.interactive && task.status !== noted) {
        noted = task.status;
        output.note(`task ${taskId}: ${task.status} after ${formatDuration(age(task))}`);
      }
    };
    ticker = setInterval(() => latest && spinner.update(line(latest)), TICK_MS);
    ticker.unref();
    if (!output.json && first.status === 'pending') {
      watcher = watchWhilePending(client, taskId, observe);
    }
    const sdkWait = () =>
      client.waitForTask(taskId, {
        signal,
        throwOnFailure: false,
        ...(options.pollIntervalMs !== undefined && { pollIntervalMs: options.pollIntervalMs }),
        ...(timeoutMs !== undefined && {
          timeoutMs: Math.max(1, timeoutMs - (performance.now() - startedAt)),
        }),
        onStatus: observe,
        // The wait rides an outage out on its own; without a word the spinner would go on as
        // though the proxy answered.
        onOutage: (error) => {
          away = error === undefined ? undefined : outageReason(error);
          if (latest) spinner.update(line(latest));
          if (output.interactive) return;
          output.note(
            away === undefined
              ? `the proxy at ${options.url} is back`
              : `the proxy at ${options.url} is away${away}; waiting for it to come back`,
          );
        },
      });
    for (;;) {
      try {
        return await sdkWait();
      } catch (error) {
        // The SDK fails an outage at its own first read at once (a wrong URL is not waited on);
        // this task was read already, so that outage is waited out here, then the wait goes on.
        if (away !== undefined || signal.aborted || !isProxyOutage(error)) throw error;
        observe(await firstRead(ctx, taskId, deadline.signal, true));
        if (latest && isTerminalStatus(latest.status)) return latest;
      }
    }
  } catch (error) {
    const command = resumeCommand(options, taskId);
    const resume = `resume waiting with: ${command}`;
    const lastStatus =
      (isWaitTimeoutError(error) ? error.lastTask?.status : undefined) ?? latest?.status;
    const status = lastStatus ? ` (${lastStatus})` : '';
    // Scripts read the task, its status and the resume command as fields, not out of the message.
    const details = {
      task_id: taskId,
      ...(lastStatus && { status: lastStatus }),
      resume_command: command,
    };
    // Before the proxy answered for it (a read, or the submission's answer), nothing is known of
    // the task, not even that it exists.
    const known = latest !== undefined || limits.named === true;
    const goesOn = !known
      ? `before the proxy answered for task ${taskId}`
      : `task ${taskId} goes on on the proxy${status}`;
    if (signal.aborted) {
      throw new CliError(EXIT_CODES.interrupted, `stopped waiting; ${goesOn}`, resume, {
        cause: error,
        details,
      });
    }
    if (isWaitTimeoutError(error) || deadline.expired(error)) {
      throw new CliError(
        EXIT_CODES.timeout,
        `gave up after ${formatDuration(options.timeoutMs ?? 0)}; ${goesOn}`,
        resume,
        { cause: error, details },
      );
    }
    // The id was right: the proxy answered for it a moment ago.
    if (known && isTaskNotFoundError(error) && error.code !== 'invalid_task_id') {
      throw new CliError(
        EXIT_CODES.notFound,
        `task ${taskId} is gone from the proxy at ${options.url}, which had it${status}: a proxy restarted with --store memory keeps no tasks, and cleanup, --retention or --max-tasks remove finished ones`,
        `${cliCommand(options, ['--list-tasks'])} shows the tasks the proxy holds now`,
        { cause: error, details: { task_id: taskId, ...(lastStatus && { status: lastStatus }) } },
      );
    }
    // A newer proxy's status: waiting on would never end, and reading the task still works.
    if (isProxyError(error) && error.code === 'unknown_status') {
      const shown = latest && !isTaskStatus(latest.status) ? latest.status : undefined;
      throw new CliError(
        EXIT_CODES.proxyError,
        error.message,
        `the proxy is newer than this proxy-cli: use a proxy-cli as new as the proxy; ${cliCommand(options, ['--task-id', taskId, '--json'])} shows the task as the proxy has it`,
        {
          cause: error,
          code: 'unknown_status',
          details: { task_id: taskId, ...(shown !== undefined && { status: shown }) },
        },
      );
    }
    // The proxy answered for the task, then went away and stayed away (a wait gives up on an
    // outage after five minutes): what to do is wait again once it is back, not fix --url.
    if (known && isProxyOutage(error)) {
      throw new CliError(
        EXIT_CODES.unreachable,
        `lost the proxy at ${options.url}${outageReason(error)} while waiting; ${goesOn}, if the proxy kept it`,
        resume,
        { cause: error, details },
      );
    }
    throw error;
  } finally {
    clearInterval(ticker);
    watcher?.stop();
    progress?.stop();
  }
}
