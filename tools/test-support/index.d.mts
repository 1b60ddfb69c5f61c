import type { ChildProcess } from 'node:child_process';

export interface ProxyProcessOptions {
  /**
   * Flags for the proxy-server bin; `--listen-host 127.0.0.1 --listen-port 0` are added unless
   * given, and `--data-dir` with a fresh temporary directory (removed at exit) unless the flags
   * choose a store or a data dir (it overrides `PROXY_DATA_DIR` from `env`).
   */
  args: string[];
  env?: Record<string, string | undefined>;
  /** How long to wait for the listening line. @default 15000 */
  startTimeoutMs?: number;
}

export interface ProxyProcess {
  /** Base URL the proxy listens on, e.g. `http://127.0.0.1:41234`. */
  url: string;
  child: ChildProcess;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** Sends the signal (default SIGTERM) and resolves when the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Absolute path of the built proxy-server bin (packages/proxy-server/dist/bin.js). */
export const proxyServerBin: string;

/** A port that was free a moment ago, for servers that cannot be told to pick one. */
export function freePort(): Promise<number>;
/** Absolute path of the built proxy-cli bin (packages/proxy-cli/dist/bin.js). */
export const proxyCliBin: string;

/** Starts the built proxy-server as a child process and resolves once it listens. */
export function spawnProxyServer(options: ProxyProcessOptions): Promise<ProxyProcess>;

/** Polls `check` until it returns a truthy value (which is resolved) or the deadline passes. */
export function waitFor<T>(
  check: () => T | Promise<T>,
  options?: { timeoutMs?: number; intervalMs?: number; what?: string },
): Promise<NonNullable<T>>;

export interface RedisOptions {
  /** Log every write to an append-only file, fsynced before each answer (AOF). @default false */
  appendonly?: boolean;
}

export interface RedisServer {
  /** `redis://127.0.0.1:<port>/0`. */
  url: string;
  port: number;
  /** The server's own temporary directory (its append-only file, when it has one). */
  dir: string;
  /** Stops the server (SIGTERM by default); its files stay for `restart()`. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and files (stops it first if it runs). */
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

/**
 * Starts `redis-server` on a free port with its files in a new temporary directory, without
 * snapshots (`--save ""`), and resolves once it accepts connections.
 */
export function startRedis(options?: RedisOptions): Promise<RedisServer>;
