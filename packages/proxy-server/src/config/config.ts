import type { RetryOn } from '../engine/retry-policy.js';
import type { SqliteSynchronous } from '../engine/sqlite/sqlite-repository.js';

/** The validated settings of one proxy-server instance; every unit is in the field's name. */
export interface ProxyConfig {
  target: TargetConfig;
  listenHost: string;
  listenPort: number;
  /** Most upstream calls in flight at once. */
  maxConcurrent: number;
  /** Most tasks waiting in the queue; one more gets 503 `queue_full`. */
  maxQueueSize: number;
  /** Worker loops taking tasks off the queue. */
  numWorkers: number;
  /** Processing time after which a task is reported as long. */
  longTaskThresholdMs: number;
  /** Total time one upstream call may take; null means no timeout at all. */
  upstreamTimeoutMs: number | null;
  /** Largest request body accepted on `/api/*`. */
  bodyLimitBytes: number;
  /** Time a client has to send a whole request, headers and body, before it gets 408 and is cut off. */
  requestTimeoutMs: number;
  /** Most client connections open at once; null for no cap. */
  maxConnections: number | null;
  /**
   * Longest a wait holds a request: held reads and submissions answer within it, and event
   * streams send a heartbeat at least as often.
   */
  maxWaitSeconds: number;
  /** Largest target answer kept; a bigger one fails the task with `result_too_large`. */
  resultSizeLimitBytes: number;
  /** How long finished tasks are kept before automatic removal; null keeps them until cleaned. */
  retentionMs: number | null;
  /** Most tasks held (oldest finished removed first to make room); null for no cap. */
  maxTasks: number | null;
  /** When set, every route but `/health` requires `Authorization: Bearer <apiKey>`. */
  apiKey: string | null;
  /** Origins allowed by CORS; null turns CORS off, `['*']` allows any origin. */
  corsOrigins: string[] | null;
  /** Which peers are gateways whose `X-Forwarded-*` headers are believed; null believes none. */
  trustProxy: TrustProxy | null;
  logLevel: LogLevel;
  /** JSON lines, readable lines, or readable on a terminal and JSON otherwise. */
  logFormat: LogFormat;
  /** `GET /metrics` is served without the API key. */
  publicMetrics: boolean;
  /** The `instance` label of this process's own metrics; null: `<hostname>:<listen port>`. */
  metricsInstance: string | null;
  /** `GET /openapi.json` and `/docs` are served without the API key. */
  publicDocs: boolean;
  /** Where tasks are kept. */
  store: StoreConfig;
  /**
   * Tasks cut off by a shutdown or left processing by a crash go back to the queue (at least
   * once: for idempotent targets) instead of failing `interrupted`.
   */
  requeueInterrupted: boolean;
  /**
   * With `requeueInterrupted`, how many times a task cut off goes back to the queue: a call that
   * itself brings the process down would otherwise crash every start.
   */
  maxRequeues: number;
  /** Retries, deadlines, fair sharing, rate limit and callbacks. */
  delivery: DeliveryConfig;
  /** How long in-flight upstream calls may run on after SIGINT, SIGTERM or SIGHUP. */
  shutdownGraceMs: number;
}

export interface TargetConfig {
  /** `http://host:port` or `https://host:port`, no trailing slash. */
  origin: string;
  /** Path prefixed to every forwarded path, e.g. `/v1`; empty for none. */
  basePath: string;
  /** origin + basePath, for people and `/stats`. */
  url: string;
}

/**
 * The gateways in front of the proxy: how many of them (every peer within that many hops is one),
 * or their addresses (IPs, CIDR ranges, or `loopback`, `linklocal`, `uniquelocal`).
 */
export type TrustProxy = { hops: number } | { addresses: string[] };

/**
 * What a tenant is for fair sharing: the value of a request header, the API key used, or the
 * caller's address (from X-Forwarded-For through the gateways `--trust-proxy` names).
 */
export type FairKey =
  | { kind: 'header'; name: string }
  | { kind: 'api-key' }
  /** An IPv6 caller is its network of `ipv6Bits`, a /64 when not given (caller-tenant.ts). */
  | { kind: 'ip'; ipv6Bits?: number };

/** An origin a callback may go to: scheme, host (a leading `*.` for any subdomain) and port. */
export interface CallbackOrigin {
  protocol: 'http:' | 'https:';
  /** Lower case; `*.example.com` matches its subdomains, not example.com itself. */
  host: string;
  /** The port as a URL carries it: '' for the scheme's default. */
  port: string;
}

/** How tasks are delivered to the target beyond the cap and the FIFO. */
export interface DeliveryConfig {
  /** What a failed call is retried on; null: never retried. */
  retryOn: RetryOn | null;
  /** Upstream calls at most per task, first one included, when `retryOn` matches. */
  maxAttempts: number;
  retryMinDelayMs: number;
  retryMaxDelayMs: number;
  /** A task not started this long after it was submitted ends `expired`; null: never. */
  maxQueueTimeMs: number | null;
  /** What makes tasks one tenant's for fair sharing; null: fair sharing off. */
  fairKey: FairKey | null;
  tenantMaxInFlight: number | null;
  tenantMaxQueued: number | null;
  /** Calls to the target per second, with a burst; null: no limit. */
  rateLimit: { perSecond: number; burst: number } | null;
  /** Where signed callbacks may go; null: callbacks off. */
  callbacks: { allow: CallbackOrigin[]; secret: string; maxAttempts: number } | null;
}

/**
 * `memory`: nothing survives the process. `sqlite`: one file under `dataDir`. `redis`: a Redis
 * server several instances share, their keys under `prefix`.
 */
export type StoreConfig =
  | { kind: 'memory' }
  | { kind: 'sqlite'; dataDir: string; synchronous: SqliteSynchronous }
  | { kind: 'redis'; url: string; prefix: string };

export const STORE_CHOICES = ['sqlite', 'memory'] as const;
/** What `--store` names: a local store, or the URL of a Redis server. */
export type StoreChoice = (typeof STORE_CHOICES)[number] | { redisUrl: string };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** `min(numWorkers, maxConcurrent)`: the most upstream calls that can really be in flight. */
export function effectiveConcurrency(config: Pick<ProxyConfig, 'numWorkers' | 'maxConcurrent'>) {
  return Math.min(config.numWorkers, config.maxConcurrent);
}

/** A flag or environment value the proxy cannot start with; the message names the flag. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof Error && error.name === 'ConfigError';
}
