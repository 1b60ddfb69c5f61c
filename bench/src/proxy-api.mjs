// @ts-check
// The handful of proxy calls the scenarios make, over an undici Pool. The SDK is measured where
// it is the subject (adaptive polling); everywhere else the driver must cost as little as
// possible so the proxy, not the client, is what the figures describe.

/** @typedef {import('proxy-client/wire').Task} Task */
/** @typedef {import('proxy-client/wire').Stats} Stats */
/** @typedef {import('undici').Pool} Pool */

const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * @param {Pool} pool
 * @param {string} path e.g. `/api/function1?delay_ms=20`
 * @param {{ method?: import('undici').Dispatcher.HttpMethod, body?: string,
 *   headers?: Record<string, string> }} [options]
 * @returns {Promise<string>} the task id
 */
export async function submitTask(pool, path, { method = 'POST', body, headers = {} } = {}) {
  const res = await pool.request({
    path,
    method,
    headers: body === undefined ? headers : { ...JSON_HEADERS, ...headers },
    body,
  });
  const text = await res.body.text();
  if (res.statusCode !== 202) {
    throw new Error(
      `submit ${method} ${path}: expected 202, got ${res.statusCode}: ${text.slice(0, 200)}`,
    );
  }
  return /** @type {{ task_id: string }} */ (JSON.parse(text)).task_id;
}

/**
 * @param {Pool} pool
 * @param {string} taskId
 * @param {number} [waitSeconds] use the waiting read (`?wait=`)
 * @returns {Promise<Task>}
 */
export async function getTask(pool, taskId, waitSeconds) {
  const path =
    waitSeconds === undefined ? `/task/${taskId}` : `/task/${taskId}?wait=${waitSeconds}`;
  const res = await pool.request({ path, method: 'GET' });
  const text = await res.body.text();
  if (res.statusCode !== 200) {
    throw new Error(`GET ${path}: expected 200, got ${res.statusCode}: ${text.slice(0, 200)}`);
  }
  return /** @type {{ data: Task }} */ (JSON.parse(text)).data;
}

/** @param {Task} task */
export const isFinished = (task) => task.status === 'completed' || task.status === 'failed';

/**
 * @param {Pool} pool
 * @returns {Promise<Stats>}
 */
export async function getStats(pool) {
  const res = await pool.request({ path: '/stats', method: 'GET' });
  const text = await res.body.text();
  if (res.statusCode !== 200)
    throw new Error(`GET /stats: ${res.statusCode}: ${text.slice(0, 200)}`);
  return /** @type {{ data: Stats }} */ (JSON.parse(text)).data;
}

/**
 * Whether the proxy offers the waiting read: it announces it with `x-proxy-wait-max` on task
 * reads, which is also how proxy-client decides.
 * @param {Pool} pool
 * @param {string} taskId any existing task
 */
export async function offersWaitingRead(pool, taskId) {
  const res = await pool.request({ path: `/task/${taskId}`, method: 'GET' });
  await res.body.dump();
  return res.statusCode === 200 && res.headers['x-proxy-wait-max'] !== undefined;
}

/**
 * Polls /stats until `count` tasks have finished since the proxy started, and returns the
 * stats then. A failed task means the figures would describe errors, so it ends the scenario.
 * @param {Pool} pool
 * @param {number} count
 * @param {{ timeoutMs: number, intervalMs?: number }} options
 */
export async function waitForFinished(pool, count, { timeoutMs, intervalMs = 10 }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await getStats(pool);
    if (stats.totals.failed > 0) {
      throw new Error(`${stats.totals.failed} task(s) failed; the target or the proxy misbehaved`);
    }
    if (stats.totals.completed >= count) return stats;
    if (Date.now() > deadline) {
      throw new Error(
        `only ${stats.totals.completed} of ${count} tasks finished within ${timeoutMs} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
