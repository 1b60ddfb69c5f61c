/** proxy-server's public API: build the server, parse its command line, its config and store types. */
export { type Clock, systemClock } from './clock.js';
export {
  ConfigError,
  effectiveConcurrency,
  isConfigError,
  LOG_LEVELS,
  type LogLevel,
  type ProxyConfig,
  type StoreConfig,
  type TargetConfig,
} from './config/config.js';
export { OPTIONS, type OptionSpec } from './config/options.js';
export {
  defaultDataDir,
  type Environment,
  type ParsedCommandLine,
  parseConfig,
} from './config/parse-config.js';
export { LocalBackend, type LocalBackendOptions } from './engine/local/local-backend.js';
export type {
  OpenedRepository,
  QueuedRow,
  RepositoryCounts,
  StartedRow,
  SummaryRow,
  TaskRepository,
  TaskRow,
} from './engine/local/task-repository.js';
export { MemoryRepository } from './engine/memory/memory-repository.js';
export type { RedisConnector } from './engine/redis/connections.js';
export { RedisBackend, type RedisBackendOptions } from './engine/redis/redis-backend.js';
export type { RedisTaskStore } from './engine/redis/task-store.js';
export {
  NEVER_RETRY,
  type RetryDecision,
  type RetryOn,
  retryPolicy,
} from './engine/retry-policy.js';
export { DataDirError, isDataDirError } from './engine/sqlite/data-dir.js';
export { SqliteRepository } from './engine/sqlite/sqlite-repository.js';
export { isStoreRefusedError, StoreRefusedError } from './engine/store-refused.js';
export {
  isStoreUnavailableError,
  StoreUnavailableError,
} from './engine/store-unavailable.js';
export type { BinaryString, PackedHeaders } from './engine/stored-request.js';
export type {
  AdmitResult,
  BackendCounts,
  ListQuery,
  RecoveryReport,
  StopReport,
  StoreHealth,
  TaskBackend,
  TaskEvent,
  TaskEventListener,
  TaskJob,
  TaskPage,
  TaskProcessor,
  TransitionEvent,
} from './engine/task-backend.js';
export {
  type AttemptRecord,
  type CallbackDelivery,
  type CallbackState,
  DEFAULT_POLICY,
  type NewTask,
  PRIORITIES,
  type Priority,
  type ResultSummary,
  type StoredResult,
  type TaskOutcome,
  type TaskPolicy,
  type TaskRecord,
  type TaskRequest,
  type TaskSummary,
} from './engine/task-record.js';
export { ERROR_MESSAGES, isProxyHttpError, ProxyHttpError } from './errors.js';
export { createBackend } from './proxy/create-backend.js';
export type { ProxyDeps, ProxyServices } from './proxy/proxy.js';
export type { ShutdownReport, StopTally } from './proxy/stop-tally.js';
export { buildServer, type ServerDeps, shutdownServer } from './server.js';
export { VERSION } from './version.js';
