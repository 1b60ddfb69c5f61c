export { ProxyClient } from './client.js';
export {
  type HttpStatusErrorCode,
  type ProxyErrorCode,
  SDK_ERROR_CODES,
  type SdkErrorCode,
} from './errors/codes.js';
export {
  IdempotencyKeyReusedError,
  isIdempotencyKeyReusedError,
  isNoResultError,
  isProxyError,
  isProxyOutage,
  isProxyResponseError,
  isProxyUnreachableError,
  isQueueFullError,
  isTaskFailedError,
  isTaskFinishedError,
  isTaskNotFinishedError,
  isTaskNotFoundError,
  isUnauthorizedError,
  isWaitTimeoutError,
  NoResultError,
  ProxyError,
  type ProxyErrorOptions,
  ProxyResponseError,
  ProxyUnreachableError,
  QueueFullError,
  TaskFailedError,
  TaskFinishedError,
  TaskNotFinishedError,
  TaskNotFoundError,
  UnauthorizedError,
  WaitTimeoutError,
} from './errors/index.js';
export {
  type ResetEvent,
  TASK_EVENT_TYPES,
  type TaskChangeEvent,
  type TaskEvent,
  type TaskEventType,
} from './events/task-event.js';
export type {
  AfterResponseHook,
  BeforeRequestHook,
  BeforeRetryHook,
  HookResult,
  HookState,
  Hooks,
} from './hooks.js';
export { isSendableApiKey, isSubmittableMethod } from './input-checks.js';
export type {
  CleanupOptions,
  IterateTasksOptions,
  ListTasksOptions,
  OpenListener,
  OutageListener,
  ProxyClientOptions,
  RequestOptions,
  ResultOptions,
  RetryTaskOptions,
  RunOptions,
  StatusListener,
  SubmitOptions,
  WaitOptions,
  WatchEventsOptions,
  WatchTaskOptions,
} from './options.js';
export {
  adaptivePollDelay,
  FIRST_POLL_DELAY_MS,
  JITTER_RATIO,
  MAX_OUTAGE_MS,
  outagePauseMs,
  pollCeilingMs,
  withJitter,
} from './polling/schedule.js';
export type { RawResult } from './result/raw-result.js';
export type { Submission } from './submit/submission.js';
export { toSubmitPath } from './submit/submit-path.js';
export { MAX_TIMER_MS } from './timer-limit.js';
export * from './wire.js';
