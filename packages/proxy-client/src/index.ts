export { ProxyClient } from './client.js';
export {
  type HttpStatusErrorCode,
  type ProxyErrorCode,
  SDK_ERROR_CODES,
  type SdkErrorCode,
} from './errors/codes.js';
export {
  isProxyError,
  isProxyResponseError,
  isProxyUnreachableError,
  isQueueFullError,
  isTaskFailedError,
  isTaskNotFoundError,
  isUnauthorizedError,
  isWaitTimeoutError,
  ProxyError,
  type ProxyErrorOptions,
  ProxyResponseError,
  ProxyUnreachableError,
  QueueFullError,
  TaskFailedError,
  TaskNotFoundError,
  UnauthorizedError,
  WaitTimeoutError,
} from './errors/index.js';
export type {
  AfterResponseHook,
  BeforeRequestHook,
  BeforeRetryHook,
  HookResult,
  HookState,
  Hooks,
} from './hooks.js';
export type {
  CleanupOptions,
  IterateTasksOptions,
  ListTasksOptions,
  ProxyClientOptions,
  RequestOptions,
  RunOptions,
  StatusListener,
  SubmitOptions,
  WaitOptions,
} from './options.js';
export {
  adaptivePollDelay,
  FIRST_POLL_DELAY_MS,
  JITTER_RATIO,
  pollCeilingMs,
  withJitter,
} from './polling/schedule.js';
export * from './wire.js';
