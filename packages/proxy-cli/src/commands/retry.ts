import { CliError } from '../cli-error.js';
import type { CommandContext } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { formatDuration } from '../render/duration.js';
import { cliCommand } from '../resume.js';
import { answerLost, noAnswerWhile } from '../to-cli-error.js';
import { deadlineFor, remainingMs } from './deadline.js';
import { printTask } from './show-task.js';
import { waitWithProgress } from './wait.js';

/**
 * `--retry <id> [--wait]`: runs a finished task again as a new task; prints the new id, or with
 * `--wait` the new task once finished. No hold is asked for (`Prefer: wait`), so the new id shows
 * as soon as the task exists.
 */
export async function retryTask(
  ctx: CommandContext,
  action: { taskId: string; wait: boolean },
): Promise<void> {
  const { client, output, signal, options } = ctx;
  const startedAt = performance.now();
  // --timeout bounds the whole call, the request that runs the task again included; without
  // --wait, that request.
  const deadline = deadlineFor(signal, options.timeoutMs);
  const submission = await client
    .retryTask(action.taskId, { signal: deadline.signal })
    .catch((error: unknown) => {
      const interrupted = signal.aborted;
      const look = `${cliCommand(options, ['task', action.taskId])} shows it as retried_as`;
      const details = { task_id: action.taskId };
      if (!interrupted && !deadline.expired(error)) {
        // Without an answer the proxy may have run the task again: another --retry would run it
        // twice, so say where to look first rather than ask whether the proxy runs at --url.
        if (!answerLost(error)) throw error;
        throw new CliError(
          EXIT_CODES.unreachable,
          `${noAnswerWhile(options.url, `running task ${action.taskId} again`, error)}; the new task may exist`,
          look,
          { cause: error, details },
        );
      }
      throw new CliError(
        interrupted ? EXIT_CODES.interrupted : EXIT_CODES.timeout,
        `${interrupted ? 'interrupted' : `gave up after ${formatDuration(options.timeoutMs ?? 0)}`} while running task ${action.taskId} again; the new task may exist`,
        look,
        { cause: error, details },
      );
    });
  const newId = submission.taskId;
  if (!action.wait) {
    output.document({
      task_id: newId,
      retry_of: action.taskId,
      status: submission.status,
      status_url: `${options.url}/task/${newId}`,
    });
    // The new id is the proxy's word, checked by the SDK only for being a string.
    output.data(output.outText(newId));
    output.note(
      `task ${action.taskId} runs again as task ${newId}; follow it with: ${cliCommand(options, ['--task-id', newId, '--wait'])}`,
    );
    return;
  }
  output.note(`task ${action.taskId} runs again as task ${newId}`);
  const timeoutMs = remainingMs(ctx, startedAt);
  printTask(
    ctx,
    await waitWithProgress(ctx, newId, {
      named: true,
      ...(timeoutMs !== undefined && { timeoutMs }),
    }),
  );
}
