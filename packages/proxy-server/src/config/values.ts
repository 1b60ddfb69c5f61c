import { isIP, isIPv6 } from 'node:net';
import proxyAddr from '@fastify/proxy-addr';
import { isProxyApiKey, MAX_TASK_HEADER_SECONDS } from 'proxy-client/wire';
import { DECIMAL, WHOLE } from '../decimal.js';
import { decodes } from '../percent-escapes.js';
import {
  LOG_LEVELS,
  type LogLevel,
  STORE_CHOICES,
  type StoreChoice,
  type TargetConfig,
  type TrustProxy,
} from './config.js';

/**
 * How one flag's text becomes a typed value. `parse` returns undefined when the text is not
 * acceptable; `expected` completes the sentence "--flag must be ...".
 */
export interface ValueParser<T> {
  expected: string;
  parse(raw: string): T | undefined;
  /** For a list: the item `parse` refused, which the error names beside the whole value. */
  refusedItem?(raw: string): string | undefined;
  /** What likely went wrong with text `parse` refused, said after the value. */
  refusalHint?(raw: string): string | undefined;
}

export function wholeNumber(min: number, max?: number): ValueParser<number> {
  return {
    expected:
      max === undefined ? `a whole number ≥ ${min}` : `a whole number from ${min} to ${max}`,
    parse(raw) {
      if (!WHOLE.test(raw)) return undefined;
      const value = Number(raw);
      if (value < min) return undefined;
      // Without a bound said, any whole number is taken: one past what a number holds exactly
      // (a cap of 10^23 tasks) is as good as no bound, and was refused as though below `min`.
      if (max === undefined) return Math.min(value, Number.MAX_SAFE_INTEGER);
      return value <= max ? value : undefined;
    },
  };
}

/**
 * A decimal number of `unitMs` as whole milliseconds. A duration above 0 stays above 0: rounded
 * to 0 it would mean something else (no grace, keep forever) or be refused as 0.
 */
function decimalMs(raw: string, unitMs: number): number | undefined {
  if (!DECIMAL.test(raw)) return undefined;
  const value = Number(raw);
  return value === 0 ? 0 : Math.max(1, Math.round(value * unitMs));
}

/** Seconds (decimals allowed) as milliseconds; `allowZero` admits 0. */
export function secondsAsMs(allowZero: boolean): ValueParser<number> {
  return {
    expected: allowZero ? 'a number of seconds ≥ 0' : 'a number of seconds > 0',
    parse(raw) {
      const ms = decimalMs(raw, 1000);
      return ms !== undefined && (ms > 0 || allowZero) ? ms : undefined;
    },
  };
}

/**
 * Seconds > 0, at most a year (as the per-task headers), as milliseconds: for a wait that becomes
 * a time a task shows (a deadline, a retry's), which past what a date can hold would make the
 * task, and every list holding it, unreadable.
 */
export const secondsUpToAYear: ValueParser<number> = {
  expected: `a number of seconds from 0.001 to ${MAX_TASK_HEADER_SECONDS} (a year)`,
  parse(raw) {
    const ms = decimalMs(raw, 1000);
    return ms !== undefined && ms > 0 && ms <= MAX_TASK_HEADER_SECONDS * 1000 ? ms : undefined;
  },
};

/** Hours (decimals allowed) as milliseconds; 0 becomes null, meaning "never". */
export const retentionHours: ValueParser<number | null> = {
  expected: 'a number of hours ≥ 0 (0 keeps finished tasks until cleaned up)',
  parse(raw) {
    const ms = decimalMs(raw, 3_600_000);
    return ms === 0 ? null : ms;
  },
};

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|k|mb|mib|m|gb|gib|g)?$/i;
const UNIT_BYTES: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * A size such as `1048576`, `512kb` or `10mb`, up to `maxMb` MiB; units are binary (1 kb = 1024
 * bytes).
 */
export const byteSize = (maxMb: number): ValueParser<number> => ({
  expected: `a size in bytes from 1 to ${maxMb}mb such as '1048576', '512kb' or '10mb'`,
  parse(raw) {
    const match = SIZE.exec(raw.trim());
    if (!match?.[1]) return undefined;
    const unit = UNIT_BYTES[(match[2] ?? 'b').charAt(0).toLowerCase()] ?? 1;
    const bytes = Math.floor(Number(match[1]) * unit);
    return bytes >= 1 && bytes <= maxMb * 1024 ** 2 ? bytes : undefined;
  },
});

/** A host name or IP address; a bare IPv6 address is bracketed so it can sit in a URL. */
export const hostName: ValueParser<string> = {
  expected: 'a host name or IP address (no scheme, port or path)',
  parse(raw) {
    const host = raw.trim();
    // `%` too: a zone (`fe80::1%eth0`) makes no URL, so the target could not be called.
    // `\` too: in an http URL it is a `/`, so `a\b` would call host `a`.
    if (host === '' || /[\s/\\@?#%]/.test(host)) return undefined;
    if (host.startsWith('['))
      return host.endsWith(']') && isIPv6(host.slice(1, -1)) ? host : undefined;
    // `127.0.0.1:8000` has a colon too: only a real IPv6 address may.
    if (host.includes(':')) return isIPv6(host) ? `[${host}]` : undefined;
    // The target's URL is built from it: `999.1.1.1` or `a^b` would fail there, past the flags.
    return URL.canParse(`http://${host}`) ? host : undefined;
  },
  refusalHint(raw) {
    const host = raw.trim();
    // Not echoed: a URL may carry credentials, and this line lands in the service's log.
    if (/^[a-z][a-z\d+.-]*:\/\//i.test(host)) {
      return 'a URL goes in --target-url (PROXY_TARGET_URL) instead';
    }
    const hostAndPort = /^([^:/\s@]+):(\d+)$/.exec(host);
    if (!hostAndPort) return undefined;
    return `the port goes in --target-port (PROXY_TARGET_PORT): --target-host ${hostAndPort[1]} --target-port ${hostAndPort[2]}`;
  },
};

/** An address to bind: like a host, but an IPv6 address stays bare (`::`), as `listen` wants it. */
export const bindAddress: ValueParser<string> = {
  expected: 'an IP address or host name to bind (no scheme, port or path)',
  parse(raw) {
    const host = hostName.parse(raw);
    return host?.startsWith('[') ? host.slice(1, -1) : host;
  },
};

/** A port to listen on: 0 asks the system for a free one. */
export const port: ValueParser<number> = {
  ...wholeNumber(0, 65_535),
  expected: 'a port from 0 to 65535',
};

/** A port to connect to: 0 is none. */
export const targetPort: ValueParser<number> = {
  ...wholeNumber(1, 65_535),
  expected: 'a port from 1 to 65535',
};

/** `http(s)://host[:port][/base/path]`: the target's origin and an optional base path. */
export const targetUrl: ValueParser<TargetConfig> = {
  expected:
    'an http:// or https:// URL (a port, if any, from 1 to 65535) without credentials, query or fragment',
  parse(raw) {
    let url: URL;
    try {
      url = new URL(raw.trim());
    } catch {
      return undefined;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    if (url.username || url.password || url.search || url.hash || raw.includes('?')) {
      return undefined;
    }
    const basePath = url.pathname.replace(/\/+$/, '');
    return { origin: url.origin, basePath, url: url.origin + basePath };
  },
  refusalHint(raw) {
    const url = raw.trim();
    // `host:8000` parses as a URL of scheme `host:`, so the want of `//` is what tells.
    // Not echoed with an `@`: what comes before it would be credentials.
    if (url.includes('://') || url.includes('@')) return undefined;
    return targetUrl.parse(`http://${url}`) ? `write the scheme: http://${url}` : undefined;
  },
};

/** One of a fixed set of words, case-insensitive. */
export function oneOf<T extends string>(choices: readonly T[]): ValueParser<T> {
  return {
    expected: `one of ${choices.join(', ')}`,
    parse: (raw) => choices.find((choice) => choice === raw.trim().toLowerCase()),
  };
}

/** `sqlite`, `memory`, or a Redis server as `redis://[user:password@]host[:port][/db]` (`rediss://`: TLS). */
export const storeChoice: ValueParser<StoreChoice> = {
  expected: 'sqlite, memory or a Redis URL such as redis://127.0.0.1:6379/0',
  parse(raw) {
    const local = oneOf(STORE_CHOICES).parse(raw);
    if (local) return local;
    let url: URL;
    try {
      url = new URL(raw.trim());
    } catch {
      return undefined;
    }
    const isRedis = url.protocol === 'redis:' || url.protocol === 'rediss:';
    const database = /^\/?(\d{0,5})$/.exec(url.pathname);
    if (!isRedis || url.hostname === '' || url.search || url.hash || !database) return undefined;
    // ioredis decodes them as it connects: a stray '%' failed the start with "URI malformed".
    if (!decodes(url.username) || !decodes(url.password)) return undefined;
    return { redisUrl: raw.trim() };
  },
  refusalHint(raw) {
    const url = /^rediss?:\/\/([^:]*):(.*)@/i.exec(raw.trim());
    // A '%' before two hex digits is one encoded already.
    if (!url?.[2] || !/[@:/?#\s]|%(?![0-9A-Fa-f]{2})/.test(url[2])) return undefined;
    return 'the password in it holds characters a URL reserves; percent-encode them (encodeURIComponent): @ as %40, : as %3A, / as %2F, ? as %3F, # as %23, % as %25, a space as %20';
  },
};

/**
 * What every Redis key of one proxy (or group of instances) starts with. No colon: the proxy's
 * keys are `<prefix>:<name>`, so prefix `a:tasks` would write into `a`'s BullMQ queue, and `a:q`
 * into its listings.
 */
export const redisPrefix: ValueParser<string> = {
  expected:
    "one to 64 letters, digits or . _ - { } (no ':', which joins the prefix to each key's name)",
  parse: (raw) => (/^[A-Za-z0-9._{}-]{1,64}$/.test(raw) ? raw : undefined),
};

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** A switch: given alone on the command line, or true/false (1/0, yes/no) in the environment. */
export const boolean: ValueParser<boolean> = {
  expected: 'true or false',
  parse(raw) {
    const word = raw.trim().toLowerCase();
    return TRUE.has(word) ? true : FALSE.has(word) ? false : undefined;
  },
};

/**
 * What Node puts for bytes of argv and the environment that are not UTF-8 (a Latin-1 name): the
 * path it holds names another dir, where the proxy would start an empty store without a word.
 */
const NOT_UTF8 = '\uFFFD';

/**
 * A directory path as given; `resolveDirectory` makes it absolute once the environment is known
 * (a leading `~` needs its HOME).
 */
export const directory: ValueParser<string> = {
  expected: "a directory path (a leading ~ only as '~' or '~/...', the home directory)",
  parse(raw) {
    const path = raw.trim();
    if (path === '' || path.includes('\0') || path.includes(NOT_UTF8)) return undefined;
    // Another user's home (`~ada/x`) is the shell's to expand; here it would name `./~ada/x`.
    return path.startsWith('~') && path !== '~' && !path.startsWith('~/') ? undefined : path;
  },
  refusalHint: (raw) =>
    raw.includes(NOT_UTF8)
      ? `it holds bytes that are not UTF-8 (shown as ${NOT_UTF8}), which Node cannot pass on as they are; rename the dir, or link to it under a UTF-8 name`
      : undefined,
};

export const logLevel: ValueParser<LogLevel> = {
  expected: `one of ${LOG_LEVELS.join(', ')}`,
  parse: (raw) => LOG_LEVELS.find((level) => level === raw.trim().toLowerCase()),
};

export const apiKey: ValueParser<string> = {
  expected: 'a non-empty key of printable ASCII without spaces',
  parse: (raw) => (isProxyApiKey(raw) ? raw : undefined),
};

/** A comma-separated list of origins (`https://app.example`) or `*` for any origin. */
export const corsOrigins: ValueParser<string[]> = {
  expected:
    "'*' or a comma-separated list of origins (scheme, host and port: no path) such as https://app.example",
  parse(raw) {
    const items = raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
    if (items.length === 0) return undefined;
    if (items.includes('*')) return items.length === 1 ? ['*'] : undefined;
    const origins: string[] = [];
    for (const item of items) {
      const origin = originOf(item);
      if (origin === undefined) return undefined;
      origins.push(origin);
    }
    return origins;
  },
};

function originOf(text: string): string | undefined {
  try {
    const url = new URL(text);
    const isOriginOnly = url.pathname === '/' && !url.search && !url.hash && !url.username;
    return isOriginOnly && /^https?:$/.test(url.protocol) ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/** `--trust-proxy`: a hop count, or addresses that Fastify's own proxy-addr can compile. */
export const trustProxy: ValueParser<TrustProxy> = {
  expected:
    'a number of gateways in front (1 or more), or a comma-separated list of their addresses: IPs, CIDR ranges such as 10.0.0.0/8, loopback, linklocal or uniquelocal',
  parse(raw) {
    const value = raw.trim();
    if (WHOLE.test(value)) {
      const hops = Number(value);
      return hops >= 1 && hops <= 100 ? { hops } : undefined;
    }
    const addresses = value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
    if (addresses.length === 0 || !addresses.every(isTrustedAddressForm)) return undefined;
    try {
      proxyAddr.compile(addresses);
    } catch {
      return undefined;
    }
    return { addresses };
  },
};

const TRUSTED_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * An address in full (proxy-addr would also take `1.5` as 1.0.0.5, so `--trust-proxy 1,2` would
 * trust 0.0.0.1 and 0.0.0.2, and a hop count mistyped as such would silently trust nothing).
 */
function isTrustedAddressForm(item: string): boolean {
  if (TRUSTED_NAMES.has(item)) return true;
  const [address = '', range, ...rest] = item.split('/');
  if (rest.length > 0 || isIP(address) === 0) return false;
  return range === undefined || /^\d{1,3}$/.test(range) || isIP(range) === 4;
}
