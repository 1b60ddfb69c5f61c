// Follow tasks as they change instead of polling: watch one task to its end, read its answer as
// the target sent it, and stop a job that is not wanted any more.
//
//   PROXY_URL=http://localhost:8080 pnpm --filter proxy-examples watch
//
// watchTask is an async iterator over the task's event stream (GET /task/:id/events): it yields
// the task as it is, then at each status change, and ends after the finished task. A dropped
// connection is resumed where it left off; `break` or an AbortSignal closes it.
import { isTaskFinishedError } from 'proxy-client';
import { client, Surprise } from './client.js';

const started = Date.now();
const elapsed = () => `${String(Date.now() - started).padStart(5)} ms`;

// 1. One job, followed live. slow-target's /api/text answers text/plain after `delay_ms`.
const taskId = await client.submitTask('api/text', undefined, {
  method: 'GET',
  query: { text: 'hello from the target', delay_ms: 800 },
});
console.error(`submitted: task ${taskId}`);
const seen: string[] = [];
const deadline = AbortSignal.timeout(30_000);
try {
  for await (const task of client.watchTask(taskId, { signal: deadline })) {
    seen.push(task.status);
    console.error(`${elapsed()}  ${task.status}`);
  }
} catch (error) {
  // The watch rejects with the signal's reason, the TimeoutError of AbortSignal.timeout.
  if (error !== deadline.reason) throw error;
  throw new Surprise(
    `the task was still ${seen.at(-1) ?? 'unseen'} after 30 s: the proxy is busy with earlier tasks? (proxy-cli stats shows its queue)`,
  );
}
if (seen.at(-1) !== 'completed') throw new Surprise(`expected the task to complete, saw ${seen}`);

// 2. Its answer as the target sent it: status, headers and bytes, no JSON in between.
const result = await client.getResult(taskId);
console.error(`the target answered ${result.status} ${result.headers.get('content-type')}`);

// 3. A job nobody wants any more: cancel it while it runs, and hear it end.
const unwanted = await client.submitTask('api/long', undefined, {
  method: 'GET',
  query: { seconds: 60 },
});
const ends: string[] = [];
for await (const task of client.watchTask(unwanted)) {
  ends.push(task.status);
  if (task.status === 'processing') await client.cancelTask(unwanted);
}
console.error(`${elapsed()}  the long job ended ${ends.at(-1)}`);
// A finished task cannot be cancelled; the error says how it ended.
const refused = await client.cancelTask(taskId).catch((error: unknown) => error);
if (!isTaskFinishedError(refused))
  throw new Surprise('cancelling a finished task should be refused');

// Data on stdout: what was seen.
console.log(
  JSON.stringify({
    task_id: taskId,
    statuses: seen,
    answer: result.text(),
    cancelled: { task_id: unwanted, statuses: ends },
    refused: { code: refused.code, ended: refused.task?.status },
  }),
);
