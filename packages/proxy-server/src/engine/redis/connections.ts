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
    // Off: a batched command's timeout starts only once the batch before it is answered, so
    // against a hung Redis a read took up to two timeouts (and the bench saw no gain from it).
    enableAutoPipelining: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: timeoutMs,
    connectTimeout: timeoutMs,
    retryStrategy: reconnectDelay,
    connectionName: 'proxy-server:commands',
  };
}

/**
 * The first connection of a start, and its only one until Redis takes the URL's credentials and
 * lets its user run INFO: ioredis's ready check, which runs INFO on every other connection, says
 * a denied INFO on stderr in words of its own, and BullMQ's version check in an error event. Its
 * own INFO, which the start runs, makes the denial the start's refusal. It gives up at the first
 * failure: the start fails with it.
 */
export function startCheckConnection(timeoutMs: number): RedisOptions {
  return {
    ...commandConnection(timeoutMs),
    enableReadyCheck: false,
    retryStrategy: () => null,
    connectionName: 'proxy-server:start-check',
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

/**
 * Why the first connection to Redis failed, in words an operator can act on: ioredis passes on
 * the socket's or the server's own text, which names the error but not always the mistake.
 */
export function connectFailure(url: string, reason: string): string {
  const where = displayUrl(url);
  // ioredis's ready check and BullMQ's version check run INFO, which some operators rename away.
  const unknown = /^ERR unknown command '([^']+)'/i.exec(reason);
  if (unknown) {
    return `Redis at ${where} refused a command the proxy needs as it connects (${reason}): ${unknown[1]?.toUpperCase()} must not be renamed or disabled (rename-command)`;
  }
  const notResp = /^Unknown RESP type \d+ "([\s\S])"/.exec(reason);
  if (notResp) {
    const like = notResp[1] === 'H' ? ', as an HTTP server does' : '';
    // As JSON: a binary protocol's first byte may be a control character.
    return `what answers at ${where} is not Redis (its reply begins with ${JSON.stringify(notResp[1])}${like})`;
  }
  // A server that is not Redis may close the socket on the first command before its reply is
  // read, which leaves only the socket's word for it.
  const closed = /^(write EPIPE|read ECONNRESET|write ECONNRESET)$/.test(reason)
    ? '; the server there closed the connection when spoken to: is it Redis?'
    : '';
  // A TLS client waiting for a handshake that a plain Redis never sends times out.
  const tls =
    url.startsWith('rediss:') && /ETIMEDOUT|EPROTO|ECONNRESET|wrong version number/.test(reason)
      ? '; a rediss:// URL needs Redis to speak TLS on that port, and redis:// is for one that does not'
      : '';
  return `cannot reach Redis at ${where} (${reason}${closed}${tls})`;
}

export function hasPassword(url: string): boolean {
  try {
    return new URL(url).password !== '';
  } catch {
    return false;
  }
}

/** The user the URL connects as: its own, else Redis's `default`. */
export function redisUser(url: string): string {
  try {
    return decodeURIComponent(new URL(url).username) || 'default';
  } catch {
    return 'default';
  }
}
