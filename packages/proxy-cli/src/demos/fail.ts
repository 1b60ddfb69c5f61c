import type { Task } from 'proxy-client/wire';
import { waitWithProgress } from '../commands/wait.js';
import type { CommandContext } from '../context.js';
import { renderTask } from '../render/task.js';
import { heading, say } from './narrate.js';

export interface FailReport {
  name: 'fail';
  task: Task;
}

/** A target that answers 500: the task is failed and the target's answer is kept. */
export async function failDemo(ctx: CommandContext): Promise<FailReport> {
  const { client, output, signal } = ctx;
  heading(ctx, 'fail: the target answers 500', [
    'completed means the target answered 2xx. Any other answer makes the task failed, and the',
    'answer is kept in result. proxy-cli --task-id <id> exits 1 for a failed task.',
  ]);
  const taskId = await client.submitTask('api/fail?status=500', undefined, {
    method: 'GET',
    signal,
  });
  const task = await waitWithProgress(ctx, taskId);
  say(ctx, renderTask(task, output.look));
  return { name: 'fail', task };
}
