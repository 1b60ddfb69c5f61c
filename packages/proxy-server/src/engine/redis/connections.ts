import { Redis, type RedisOptions } from 'ioredis';

/** Makes one ioredis client for `url` with these options; tests and embedders may wrap it. */
export type RedisConnector = (url: string, options: RedisOptions) => Redis;

export const connectToRedis: RedisConnector = (url, options) => new Redis(url, options);

/** Reconnects forever, soon: a proxy must carry on by itself within a second of Redis's return. */
const reconnectDelay = (attempt: number): number => Math.min(50 * 2 ** attempt, 1_000);

/**
 * The connection for the backend's reads and writes and BullMQ's `Queue`: it fails fast while
 * Redis cannot be reached (no offline queue, a command timeout), so a caller gets 503
 * `store_unavailable` within a few seconds instead of a request that hangs.
 */
export function commandConnection(timeoutMs: number): RedisOptions {
  return {
    lazyConnect: true,
    // Commands issued in one turn of the event loop leave in one write.
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: timeoutMs,
    connectTimeout: timeoutMs,
    retryStrategy: reconnectDelay,
    connectionName: 'proxy-server:commands',
  };
}

/**
 * A connection that waits for Redis instead: BullMQ's `Worker` (which blocks, and must keep a
 * job's outcome until it can be written) and the event feed's XREAD.
 */
export function waitingConnection(name: string): RedisOptions {
  return {
    lazyConnect: true,
    maxRetriesPerRequest: null,
    retryStrategy: reconnectDelay,
    connectionName: `proxy-server:${name}`,
  };
}

/** `redis://host:port/db` as people may see it: no password. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return 'redis';
  }
}
