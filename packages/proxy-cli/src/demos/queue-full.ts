import { isQueueFullError, ProxyClient, type QueueFullError } from 'proxy-client';
import type { Task } from 'proxy-client/wire';
import { waitWithProgress } from '../commands/wait.js';
import type { CommandContext } from '../context.js';
import { queueFullReason } from '../queue-full-reason.js';
import { formatDuration } from '../render/duration.js';
import { effectiveConcurrency } from '../render/stats.js';
import { paintStatus } from '../render/status.js';
import { heading, say } from './narrate.js';

/** Past this many submissions reaching the proxy's limit is no longer a quick demo. */
const MOST_SUBMISSIONS = 300;
/** How long the tasks that occupy every worker keep the target busy. */
const HOLD_MS = 2500;
const RETRIES = 5;

export type QueueFullReport =
  | { name: 'queue-full'; skipped: true; reason: string }
  | {
      name: 'queue-full';
      skipped: false;
      /** Tasks accepted before the proxy answered 503. */
      accepted: number;
      /**
       * What the 503 said: its code, and the proxy's reason, which names the limit reached
       * (`--max-queue-size`, `--max-tasks`, `--tenant-max-queued`); null from a proxy that names none.
       */
      refused: { code: QueueFullError['code']; reason: string | null };
      max_queue_size: number;
      /** The Retry-After the proxy sent with the 503, in seconds. */
      retry_after_s: number | null;
      /** How long the SDK's submit with retries took until the proxy took the task. */
      retried_submit_ms: number;
      /** Each answer the SDK got while retrying, e.g. `503 (Retry-After: 2 s)`, then `202`. */
      retry_answers: string[];
      task: Task;
    };

/**
 * Submits until the proxy answers 503 queue_full with Retry-After, then submits once more with
 * `queueFullRetries` and lets the SDK wait and retry until there is room. The queue is not the
 * only limit that refuses a task (`--max-tasks` may come first), so it tells the proxy's reason.
 */
export async function queueFullDemo(ctx: CommandContext): Promise<QueueFullReport> {
  const { client, output, options, signal } = ctx;
  const stats = await client.getStats({ signal });
  const concurrency = effectiveConcurrency(stats);
  const room = concurrency + stats.max_queue_size - stats.queue_size;
  heading(ctx, 'queue-full: a bounded queue says 503, the SDK retries', [
    `The proxy holds at most ${stats.max_queue_size} waiting tasks (--max-queue-size), or fewer if another`,
    'limit comes first (--max-tasks); a task it has no room for gets 503 queue_full with a',
    'Retry-After header, and is not created.',
    `The demo keeps the ${concurrency} workers busy for ${formatDuration(HOLD_MS)} and submits until the proxy refuses one (503 queue_full).`,
  ]);
  if (room + 1 > MOST_SUBMISSIONS) {
    const reason = `filling a queue of ${stats.max_queue_size} would take ${room + 1} submissions; start a proxy with --max-queue-size 10 to watch this`;
    say(ctx, output.color.yellow(`skipped: ${reason}`));
    return { name: 'queue-full', skipped: true, reason };
  }

  const progress = output.progress('submitting until the proxy refuses one');
  let accepted = 0;
  let refusal: QueueFullError | undefined;
  try {
    while (accepted <= MOST_SUBMISSIONS && !refusal) {
      // The first tasks occupy every worker; the rest (no delay) only sit in the queue.
      const delay_ms = accepted < concurrency ? HOLD_MS : 0;
      try {
        await client.submitTask('api/function1', { filler: accepted + 1, delay_ms }, { signal });
        accepted++;
        progress.update(`submitting until the proxy refuses one: ${accepted} accepted`);
      } catch (error) {
        if (!isQueueFullError(error)) throw error;
        refusal = error;
      }
    }
  } finally {
    progress.stop();
  }
  if (!refusal) {
    const reason = `the proxy took ${accepted} tasks without a 503; its workers drain the queue faster than the demo fills it`;
    say(ctx, output.color.yellow(`skipped: ${reason}`));
    return { name: 'queue-full', skipped: true, reason };
  }
  const retryAfter = refusal.retryAfterMs === undefined ? null : refusal.retryAfterMs / 1000;
  const reason = queueFullReason(refusal) ?? null;
  const answer = output.color.red(`503 ${refusal.code}`);
  say(
    ctx,
    `${accepted} tasks accepted, then the proxy refused one (${answer}, Retry-After: ${retryAfter ?? '(none)'} s)${reason === null ? '' : `: ${reason}`}; the task was not created.`,
  );
  say(
    ctx,
    output.color.dim(
      `Now submitTask(path, body, { queueFullRetries: ${RETRIES} }): the SDK waits Retry-After, tries again.`,
    ),
  );

  // A client of its own, to see each answer the SDK gets while it retries.
  const answers: string[] = [];
  const retrying = output.progress(`submitting with queueFullRetries: ${RETRIES}`);
  const watched = new ProxyClient({
    baseUrl: options.url,
    ...(options.apiKey !== undefined && { apiKey: options.apiKey }),
    hooks: {
      afterResponse: [
        (_request, _options, response) => {
          const wait = response.headers.get('retry-after');
          answers.push(
            wait === null ? String(response.status) : `${response.status} (Retry-After: ${wait} s)`,
          );
          if (response.status === 503) {
            retrying.update(
              `503 again; the SDK waits ${wait ?? '?'} s, then tries again (attempt ${answers.length + 1})`,
            );
          }
        },
      ],
    },
  });
  const submittedAt = performance.now();
  let taskId: string;
  try {
    taskId = await watched.submitTask(
      'api/function1',
      { after: 'queue_full', delay_ms: 0 },
      { signal, queueFullRetries: RETRIES },
    );
  } finally {
    retrying.stop();
  }
  const retriedMs = performance.now() - submittedAt;
  say(ctx, `the SDK got ${answers.join(', then ')}: ${formatDuration(retriedMs)} in all`);
  const task = await waitWithProgress(ctx, taskId);
  say(
    ctx,
    `task ${taskId} ${paintStatus(task.status, output.color)}, queued ${formatDuration(task.queue_ms)}.`,
  );
  return {
    name: 'queue-full',
    skipped: false,
    accepted,
    refused: { code: refusal.code, reason },
    max_queue_size: stats.max_queue_size,
    retry_after_s: retryAfter,
    retried_submit_ms: Math.round(retriedMs),
    retry_answers: answers,
    task,
  };
}
