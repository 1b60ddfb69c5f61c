// Submit one job to the slow target behind the proxy, wait for it, print its result.
//
//   PROXY_URL=http://localhost:8080 pnpm --filter proxy-examples submit-and-wait
//
// The proxy answers the submission at once with a task id; waitForTask waits for the task to
// finish (a read the proxy holds until it does) and reports each status it reads: a task that
// starts and finishes within one held read goes from pending to completed. watch.ts shows every
// change as it happens.
import { client, Surprise } from './client.js';

const params = { param1: 'value1', param2: 'value2', param3: 100 };
// The target takes ~1 s (slow-target reads delay_ms); a real service just takes its time.
const taskId = await client.submitTask('api/function1', { ...params, delay_ms: 1000 });
console.error(`submitted: task ${taskId}`);

const task = await client.waitForTask(taskId, {
  onStatus: (current) => console.error(`status: ${current.status}`),
});

if (task.status !== 'completed' || task.result?.body_encoding !== 'json') {
  throw new Surprise(`expected a completed task with a JSON answer, got ${JSON.stringify(task)}`);
}
console.error(`completed in ${task.duration_ms} ms after ${task.queue_ms} ms in the queue`);
// Data on stdout: the target's answer, as the proxy kept it.
console.log(JSON.stringify(task.result.body, null, 2));
