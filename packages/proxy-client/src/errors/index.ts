export {
  IdempotencyKeyReusedError,
  isIdempotencyKeyReusedError,
} from './idempotency-key-reused-error.js';
export { isNoResultError, NoResultError } from './no-result-error.js';
export { isProxyOutage } from './outage.js';
export { isProxyError, ProxyError, type ProxyErrorOptions } from './proxy-error.js';
export { isProxyResponseError, ProxyResponseError } from './proxy-response-error.js';
export { isProxyUnreachableError, ProxyUnreachableError } from './proxy-unreachable-error.js';
export { isQueueFullError, QueueFullError } from './queue-full-error.js';
export { isTaskFailedError, TaskFailedError } from './task-failed-error.js';
export { isTaskFinishedError, TaskFinishedError } from './task-finished-error.js';
export { isTaskNotFinishedError, TaskNotFinishedError } from './task-not-finished-error.js';
export { isTaskNotFoundError, TaskNotFoundError } from './task-not-found-error.js';
export { isUnauthorizedError, UnauthorizedError } from './unauthorized-error.js';
export { isWaitTimeoutError, WaitTimeoutError } from './wait-timeout-error.js';
