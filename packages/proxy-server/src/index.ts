/** proxy-server's public API: build the server, parse its command line, and its config types. */
export {
  ConfigError,
  effectiveConcurrency,
  isConfigError,
  LOG_LEVELS,
  type LogLevel,
  type ProxyConfig,
  type TargetConfig,
} from './config/config.js';
export { OPTIONS, type OptionSpec } from './config/options.js';
export { type Environment, type ParsedCommandLine, parseConfig } from './config/parse-config.js';
export { ERROR_MESSAGES, isProxyHttpError, ProxyHttpError } from './errors.js';
export type { ProxyDeps } from './runtime.js';
export { buildServer, type ServerDeps, shutdownServer } from './server.js';
export { MemoryTaskStore } from './tasks/memory-task-store.js';
export type { BinaryString, PackedHeaders } from './tasks/stored-request.js';
export type {
  FinishListener,
  ListQuery,
  NewTask,
  StoreCounts,
  StoredResult,
  StoredTask,
  TaskOutcome,
  TaskPage,
  TaskRequest,
  TaskStore,
} from './tasks/task-store.js';
export { VERSION } from './version.js';
