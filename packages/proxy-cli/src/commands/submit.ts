import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CliError } from '../cli-error.js';
import type { CommandContext } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import type { DataSource, SubmitAction } from '../options.js';
import { holdMs, remainingMs, withSpinner } from './held.js';
import { printTask } from './show-task.js';
import { waitWithProgress } from './wait.js';

/**
 * `--submit <path> [--data …] [--method m] [--wait]`: queue a request; print its id or its end.
 * Every submission carries an idempotency key (`--idempotency-key`, or one made here), so the
 * SDK's retries and a person's second try can never start the task twice. With `--wait` the
 * proxy holds the answer a few seconds (`Prefer: wait`): a quick task needs no further request.
 */
export async function submit(ctx: CommandContext, action: SubmitAction): Promise<void> {
  const { client, output, signal, options } = ctx;
  // The JSON goes as typed (checked, not re-encoded), so the target gets the user's bytes.
  const json = action.data === undefined ? undefined : await readData(ctx, action.data);
  const idempotencyKey = action.idempotencyKey ?? `proxy-cli-${randomUUID()}`;
  const what = `${action.method} /${action.path}`;
  const startedAt = performance.now();
  const send = () =>
    client.submit(action.path, json, {
      method: action.method,
      signal,
      idempotencyKey,
      ...(json !== undefined && { headers: { 'content-type': 'application/json' } }),
      ...(action.wait && { waitMs: holdMs(options.timeoutMs) }),
      ...(action.priority && { priority: action.priority }),
      ...(action.callbackUrl && { callbackUrl: action.callbackUrl }),
      ...(action.maxAttempts !== undefined && { maxAttempts: action.maxAttempts }),
      ...(action.maxQueueTimeMs !== undefined && { maxQueueTimeMs: action.maxQueueTimeMs }),
      ...(action.upstreamTimeoutMs !== undefined && {
        upstreamTimeoutMs: action.upstreamTimeoutMs,
      }),
    });
  // A spinner only while the proxy holds the answer: a plain submission is back at once.
  const sending = action.wait ? withSpinner(ctx, `submitting ${what}`, send) : send();
  const submission = await sending.catch((error: unknown) => {
    if (!signal.aborted) throw error;
    throw new CliError(
      EXIT_CODES.interrupted,
      `interrupted while submitting ${what}; the task may have been created`,
      `submit it again with --idempotency-key ${idempotencyKey}: the proxy then names that task instead of starting another`,
      { cause: error, details: { idempotency_key: idempotencyKey } },
    );
  });
  const { taskId } = submission;
  const again = submission.replayed ? ' (submitted before with this idempotency key)' : '';
  if (action.wait) {
    output.note(`submitted ${what} as task ${taskId}${again}`);
    const timeoutMs = remainingMs(ctx, startedAt);
    printTask(
      ctx,
      submission.task ??
        (await waitWithProgress(ctx, taskId, timeoutMs === undefined ? {} : { timeoutMs })),
    );
    return;
  }
  output.document({
    task_id: taskId,
    status: submission.status,
    status_url: `${options.url}/task/${taskId}`,
    idempotency_key: idempotencyKey,
    replayed: submission.replayed,
  });
  output.data(taskId);
  output.note(`queued${again}; follow it with: proxy-cli --task-id ${taskId} --wait`);
}

/** The JSON text of `--data`, checked; a missing file or bad JSON is a usage error. */
async function readData(ctx: CommandContext, source: DataSource): Promise<string> {
  if (source.kind === 'inline') return source.json;
  const where = source.kind === 'file' ? source.path : 'stdin';
  let text: string;
  try {
    text = source.kind === 'file' ? await readFile(source.path, 'utf8') : await ctx.readStdin();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(EXIT_CODES.usage, `--data: cannot read ${where}: ${reason}`);
  }
  try {
    JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(EXIT_CODES.usage, `--data: ${where} is not valid JSON: ${reason}`);
  }
  return text;
}
