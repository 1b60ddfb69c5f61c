// Stop waiting for a task with an AbortSignal: your own deadline, Ctrl-C, a closed page.
//
//   PROXY_URL=http://localhost:8080 pnpm --filter proxy-examples cancel
//
// Aborting ends the wait in this process only. The proxy keeps running the task, so its
// result can still be collected later with the same task id.
import { client, Surprise } from './client.js';

// slow-target's /api/long answers after `seconds`: far longer than we are willing to wait.
const taskId = await client.submitTask('api/long', undefined, {
  method: 'GET',
  query: { seconds: '30' },
});
console.error(`submitted: task ${taskId}`);

const userGaveUp = new AbortController();
// `on`, not `once`: tsx's launcher sends Ctrl-C again when the program has not said it heard it
// within 30 ms, and ends the program if then no listener is left.
process.on('SIGINT', () => userGaveUp.abort(new Error('interrupted by Ctrl-C')));
const signal = AbortSignal.any([userGaveUp.signal, AbortSignal.timeout(1500)]);

const started = Date.now();
try {
  await client.waitForTask(taskId, { signal });
  throw new Surprise('the task finished before the wait was aborted');
} catch (err) {
  // The wait rejects with the signal's reason: here the TimeoutError of AbortSignal.timeout.
  if (err !== signal.reason) throw err;
  console.error(`stopped waiting after ${Date.now() - started} ms: ${String(err)}`);
}

const task = await client.getTask(taskId);
if (task.status === 'completed' || task.status === 'failed') {
  throw new Surprise(`expected the task to be still running, got ${task.status}`);
}
console.log(JSON.stringify({ task_id: taskId, status: task.status }));
