import { CliError } from '../cli-error.js';
import { waitWithProgress } from '../commands/wait.js';
import type { CommandContext } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';

const PROBE_HOLD_MS = 1000;
const PROBE_PATH = 'api/function1?probe=proxy-cli-demo';

/**
 * One quick task before the tour. The demos call slow-target's endpoints: against another service
 * every demo task failed while the story went on as though they had run (exit 0), and the batch
 * and queue-full demos sent that service hundreds of requests.
 */
export async function checkDemoTarget(ctx: CommandContext): Promise<void> {
  const { client, signal, options } = ctx;
  // Held by the proxy until the task ends (a moment, for slow-target), so nothing is printed
  // while it runs; a target slower than the hold is waited for as the demos wait. A GET, which
  // slow-target answers like any method: the target may be someone's service, where a POST
  // could change something.
  const submission = await client.submit(PROBE_PATH, undefined, {
    method: 'GET',
    signal,
    waitMs: PROBE_HOLD_MS,
  });
  const { taskId } = submission;
  const task = submission.task ?? (await waitWithProgress(ctx, taskId));
  const body: unknown = task.result?.body;
  const fromSlowTarget =
    typeof body === 'object' &&
    body !== null &&
    'function' in body &&
    body.function === 'function1';
  if (task.status === 'completed' && fromSlowTarget) return;
  const what = task.result
    ? `it answered ${task.result.status_code} to GET /${PROBE_PATH}`
    : `the task to GET /${PROBE_PATH} ended ${task.status}${task.error ? ` (${task.error.message})` : ''}`;
  throw new CliError(
    EXIT_CODES.proxyError,
    `the target behind the proxy at ${options.url} is not the demo target: ${what}`,
    'the demos need slow-target behind the proxy: npm run demo starts both, or see docs/getting-started.md',
    { code: 'not_demo_target', details: { task_id: taskId } },
  );
}
