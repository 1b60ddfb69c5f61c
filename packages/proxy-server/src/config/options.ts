import {
  LOG_FORMATS,
  type LogFormat,
  type LogLevel,
  SQLITE_SYNCHRONOUS,
  type SqliteSynchronous,
  STORE_CHOICES,
  type StoreChoice,
  type TargetConfig,
} from './config.js';
import {
  apiKey,
  bindAddress,
  boolean,
  byteSize,
  corsOrigins,
  directory,
  hostName,
  logLevel,
  oneOf,
  port,
  retentionHours,
  secondsAsMs,
  targetUrl,
  type ValueParser,
  wholeNumber,
} from './values.js';

/** One command-line flag with its environment twin; the flag wins over the env, the env over the default. */
export interface OptionSpec<T> {
  /** Long flag name without dashes, e.g. `max-concurrent`. */
  name: string;
  /** Placeholder shown in `--help`, e.g. `<n>`. */
  arg: string;
  env: string;
  help: string;
  parser: ValueParser<T>;
  default: T;
  /** How the default reads in `--help`; omitted when the option has none. */
  defaultText?: string;
}

const spec = <T>(option: OptionSpec<T>): OptionSpec<T> => option;

/** A Prometheus label value people can read: printable, one line, at most 128 characters. */
const instanceName: ValueParser<string> = {
  expected: 'a name of 1 to 128 printable characters',
  parse(raw) {
    const name = raw.trim();
    return /^[\x21-\x7e][\x20-\x7e]{0,127}$/.test(name) ? name : undefined;
  },
};

const MIB = 1024 * 1024;

/** Every flag proxy-server accepts, in `--help` order. */
export const OPTIONS = {
  targetHost: spec<string | null>({
    name: 'target-host',
    arg: '<host>',
    env: 'PROXY_TARGET_HOST',
    help: 'target host name or IP (required unless --target-url is given)',
    parser: hostName,
    default: null,
  }),
  targetPort: spec({
    name: 'target-port',
    arg: '<port>',
    env: 'PROXY_TARGET_PORT',
    help: 'target port',
    parser: port,
    default: 8000,
    defaultText: '8000',
  }),
  targetUrl: spec<TargetConfig | null>({
    name: 'target-url',
    arg: '<url>',
    env: 'PROXY_TARGET_URL',
    help: 'target as a URL, http or https, optionally with a base path (overrides --target-host/--target-port)',
    parser: targetUrl,
    default: null,
  }),
  listenHost: spec({
    name: 'listen-host',
    arg: '<host>',
    env: 'PROXY_LISTEN_HOST',
    help: 'address the proxy binds',
    parser: bindAddress,
    default: '0.0.0.0',
    defaultText: '0.0.0.0',
  }),
  listenPort: spec({
    name: 'listen-port',
    arg: '<port>',
    env: 'PROXY_LISTEN_PORT',
    help: 'port the proxy listens on (0 picks a free port)',
    parser: port,
    default: 8080,
    defaultText: '8080',
  }),
  maxConcurrent: spec({
    name: 'max-concurrent',
    arg: '<n>',
    env: 'PROXY_MAX_CONCURRENT',
    help: 'most upstream calls in flight at once',
    parser: wholeNumber(1),
    default: 10,
    defaultText: '10',
  }),
  maxQueueSize: spec({
    name: 'max-queue-size',
    arg: '<n>',
    env: 'PROXY_MAX_QUEUE_SIZE',
    help: 'most tasks waiting in the queue; one more gets 503 queue_full',
    parser: wholeNumber(1),
    default: 100,
    defaultText: '100',
  }),
  numWorkers: spec({
    name: 'num-workers',
    arg: '<n>',
    env: 'PROXY_NUM_WORKERS',
    help: 'tasks worked on at once (the cap on upstream calls is the smaller of this and --max-concurrent)',
    parser: wholeNumber(1),
    default: 5,
    defaultText: '5',
  }),
  longTaskThreshold: spec({
    name: 'long-task-threshold',
    arg: '<seconds>',
    env: 'PROXY_LONG_TASK_THRESHOLD',
    help: 'processing time after which a task is marked is_long_task (nothing interrupts it)',
    parser: secondsAsMs(false),
    default: 300_000,
    defaultText: '300',
  }),
  upstreamTimeout: spec<number | null>({
    name: 'upstream-timeout',
    arg: '<seconds>',
    env: 'PROXY_UPSTREAM_TIMEOUT',
    help: 'total time one upstream call may take before the task fails with upstream_timeout',
    parser: secondsAsMs(false),
    default: null,
    defaultText: 'none, no timeout at all',
  }),
  bodyLimit: spec({
    name: 'body-limit',
    arg: '<size>',
    env: 'PROXY_BODY_LIMIT',
    help: 'largest request body accepted on /api/* (bytes, or 512kb / 10mb; 1 kb = 1024 bytes)',
    parser: byteSize,
    default: 10 * MIB,
    defaultText: '10mb',
  }),
  requestTimeout: spec({
    name: 'request-timeout',
    arg: '<seconds>',
    env: 'PROXY_REQUEST_TIMEOUT',
    help: 'time a client has to send a whole request, headers and body; a slower one gets 408 request_timeout and is disconnected',
    parser: secondsAsMs(false),
    default: 30_000,
    defaultText: '30',
  }),
  maxConnections: spec<number | null>({
    name: 'max-connections',
    arg: '<n>',
    env: 'PROXY_MAX_CONNECTIONS',
    help: 'most client connections open at once; one more is closed at once, unanswered',
    parser: wholeNumber(1),
    default: null,
    defaultText: 'none, no cap',
  }),
  resultSizeLimit: spec({
    name: 'result-size-limit',
    arg: '<size>',
    env: 'PROXY_RESULT_SIZE_LIMIT',
    help: 'largest target answer kept; a bigger one fails the task with result_too_large',
    parser: byteSize,
    default: 50 * MIB,
    defaultText: '50mb',
  }),
  retention: spec<number | null>({
    name: 'retention',
    arg: '<hours>',
    env: 'PROXY_RETENTION',
    help: 'hours finished tasks are kept before automatic removal (0 keeps them until cleaned up)',
    parser: retentionHours,
    default: 24 * 3_600_000,
    defaultText: '24',
  }),
  apiKey: spec<string | null>({
    name: 'api-key',
    arg: '<key>',
    env: 'PROXY_API_KEY',
    help: 'require "Authorization: Bearer <key>" on every route but /health',
    parser: apiKey,
    default: null,
  }),
  corsOrigin: spec<string[] | null>({
    name: 'cors-origin',
    arg: '<origins>',
    env: 'PROXY_CORS_ORIGIN',
    help: "allow browsers from these origins (comma-separated, or '*'); CORS is off without it",
    parser: corsOrigins,
    default: null,
  }),
  logLevel: spec<LogLevel>({
    name: 'log-level',
    arg: '<level>',
    env: 'PROXY_LOG_LEVEL',
    help: 'fatal, error, warn, info (one line per task transition), debug, trace or silent',
    parser: logLevel,
    default: 'info',
    defaultText: 'info',
  }),
  logFormat: spec<LogFormat>({
    name: 'log-format',
    arg: '<format>',
    env: 'PROXY_LOG_FORMAT',
    help: 'json (one object per line), pretty (readable lines), or auto: pretty when stdout is a terminal, else json',
    parser: oneOf(LOG_FORMATS),
    default: 'auto',
    defaultText: 'auto',
  }),
  publicMetrics: spec({
    name: 'public-metrics',
    arg: '',
    env: 'PROXY_PUBLIC_METRICS',
    help: 'serve GET /metrics without the API key (for a Prometheus that cannot send one)',
    parser: boolean,
    default: false,
  }),
  metricsInstance: spec<string | null>({
    name: 'metrics-instance',
    arg: '<name>',
    env: 'PROXY_METRICS_INSTANCE',
    help: "the instance label of this process's own metrics in GET /metrics",
    parser: instanceName,
    default: null,
    defaultText: '<hostname>:<listen port>',
  }),
  publicDocs: spec({
    name: 'public-docs',
    arg: '',
    env: 'PROXY_PUBLIC_DOCS',
    help: 'serve GET /openapi.json and the API reference at /docs without the API key',
    parser: boolean,
    default: false,
  }),
  store: spec<StoreChoice>({
    name: 'store',
    arg: '<kind>',
    env: 'PROXY_STORE',
    help: 'where tasks are kept: sqlite (a file under --data-dir; survives restarts) or memory (lost when the process ends)',
    parser: oneOf(STORE_CHOICES),
    default: 'sqlite',
    defaultText: 'sqlite',
  }),
  dataDir: spec<string | null>({
    name: 'data-dir',
    arg: '<dir>',
    env: 'PROXY_DATA_DIR',
    help: 'directory of the SQLite store (created if missing; one proxy per directory)',
    parser: directory,
    default: null,
    defaultText: '$XDG_STATE_HOME/proxy-server, else ~/.local/state/proxy-server',
  }),
  requeueInterrupted: spec({
    name: 'requeue-interrupted',
    arg: '',
    env: 'PROXY_REQUEUE_INTERRUPTED',
    help: 'put tasks cut off by a shutdown or a crash back in the queue instead of failing them interrupted (at-least-once: for idempotent targets)',
    parser: boolean,
    default: false,
  }),
  sqliteSynchronous: spec<SqliteSynchronous>({
    name: 'sqlite-synchronous',
    arg: '<level>',
    env: 'PROXY_SQLITE_SYNCHRONOUS',
    help: 'normal: a commit survives a crash of the process; full: also a power cut, at an fsync per commit',
    parser: oneOf(SQLITE_SYNCHRONOUS),
    default: 'normal',
    defaultText: 'normal',
  }),
  shutdownGrace: spec({
    name: 'shutdown-grace',
    arg: '<seconds>',
    env: 'PROXY_SHUTDOWN_GRACE',
    help: 'on SIGINT/SIGTERM, how long in-flight upstream calls may finish before they are cut off',
    parser: secondsAsMs(true),
    default: 30_000,
    defaultText: '30',
  }),
} as const;
