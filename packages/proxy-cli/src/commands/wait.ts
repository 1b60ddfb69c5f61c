import { isWaitTimeoutError } from 'proxy-client';
import { isTerminalStatus, type Task } from 'proxy-client/wire';
import { CliError } from '../cli-error.js';
import type { CommandContext } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { formatDuration } from '../render/duration.js';
import { paintStatus } from '../render/status.js';
import { resumeCommand } from '../resume.js';

const TICK_MS = 100;

/**
 * Waits for a task to finish, showing its status and age: a spinner on a terminal, one line per
 * status change otherwise, nothing with --json. Ctrl-C and --timeout end the wait (exit 130 and
 * 124) with the command that resumes it; the task itself goes on on the proxy.
 */
export async function waitWithProgress(
  ctx: CommandContext,
  taskId: string,
  known?: Task,
): Promise<Task> {
  const { client, output, options, signal } = ctx;
  const first = known ?? (await client.getTask(taskId, { signal }));
  if (isTerminalStatus(first.status)) return first;

  // The task's age comes from the proxy (queue_ms + duration_ms), not from clock differences.
  let latest = first;
  let seenAt = performance.now();
  const age = () => taskAgeMs(latest) + (performance.now() - seenAt);
  const line = () =>
    `${paintStatus(latest.status, output.errColor)} · ${formatDuration(age())} · task ${taskId}` +
    (latest.queue_position === null ? '' : ` · #${latest.queue_position} in queue`) +
    (latest.is_long_task ? ' · long task' : '');

  const progress = output.progress(line());
  let noted = latest.status;
  if (!output.interactive) output.note(`waiting for task ${taskId} (${noted})`);
  const ticker = setInterval(() => progress.update(line()), TICK_MS);
  ticker.unref();
  try {
    const done = await client.waitForTask(taskId, {
      signal,
      throwOnFailure: false,
      ...(options.pollIntervalMs !== undefined && { pollInterval: options.pollIntervalMs }),
      ...(options.timeoutMs !== undefined && { timeout: options.timeoutMs }),
      onStatus: (task) => {
        latest = task;
        seenAt = performance.now();
        progress.update(line());
        if (!output.interactive && task.status !== noted) {
          noted = task.status;
          output.note(`task ${taskId}: ${task.status} after ${formatDuration(age())}`);
        }
      },
    });
    latest = done;
    return done;
  } catch (error) {
    const resume = `resume waiting with: ${resumeCommand(options, taskId)}`;
    if (signal.aborted) {
      throw new CliError(
        EXIT_CODES.interrupted,
        `stopped waiting; task ${taskId} goes on on the proxy (${latest.status})`,
        resume,
        { cause: error },
      );
    }
    if (isWaitTimeoutError(error)) {
      const status = error.lastTask?.status ?? latest.status;
      throw new CliError(
        EXIT_CODES.timeout,
        `gave up after ${formatDuration(options.timeoutMs ?? 0)}; task ${taskId} goes on on the proxy (${status})`,
        resume,
        { cause: error },
      );
    }
    throw error;
  } finally {
    clearInterval(ticker);
    progress.stop();
  }
}

function taskAgeMs(task: Task): number {
  return task.queue_ms + (task.duration_ms ?? 0);
}
