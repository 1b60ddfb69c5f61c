import { readFile } from 'node:fs/promises';
import { CliError } from '../cli-error.js';
import type { CommandContext } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import type { DataSource } from '../options.js';
import { printTask } from './show-task.js';
import { waitWithProgress } from './wait.js';

/** `--submit <path> [--data …] [--method m] [--wait]`: queue a request; print its id or its end. */
export async function submit(
  ctx: CommandContext,
  action: { path: string; method: string; data?: DataSource; wait: boolean },
): Promise<void> {
  // The JSON goes as typed (checked, not re-encoded), so the target gets the user's bytes.
  const json = action.data === undefined ? undefined : await readData(ctx, action.data);
  const taskId = await ctx.client.submitTask(action.path, json, {
    method: action.method,
    signal: ctx.signal,
    ...(json !== undefined && { headers: { 'content-type': 'application/json' } }),
  });
  if (action.wait) {
    ctx.output.note(`submitted ${action.method} /${action.path} as task ${taskId}`);
    printTask(ctx, await waitWithProgress(ctx, taskId));
    return;
  }
  ctx.output.document({ task_id: taskId, status_url: `${ctx.options.url}/task/${taskId}` });
  ctx.output.data(taskId);
  ctx.output.note(`queued; follow it with: proxy-cli --task-id ${taskId} --wait`);
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
