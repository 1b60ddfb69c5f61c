import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import {
  MAX_TASK_HEADER_SECONDS,
  PRIORITIES,
  type Priority,
  SUBMIT_HEADERS,
} from 'proxy-client/wire';
import type { CallbackOrigin, DeliveryConfig } from '../config/config.js';
import { DECIMAL, WHOLE } from '../decimal.js';
import { DEFAULT_POLICY, type TaskPolicy } from '../engine/task-record.js';
import { ProxyHttpError } from '../errors.js';

export interface PolicySettings {
  delivery: DeliveryConfig;
  /** The server's upstream timeout, which a task's own may only shorten; null for none. */
  upstreamTimeoutMs: number | null;
  /** The proxy's API key, when tenants are named by it. */
  apiKey: string | null;
}

/**
 * A task's delivery policy from the server's flags and the caller's headers: the caller may
 * choose within what the flags allow, never beyond (a shorter deadline or timeout, fewer
 * attempts, a callback to an allowed origin). A bad header value is a 400 naming the header.
 */
export class TaskPolicies {
  readonly #settings: PolicySettings;
  /** Shared by every task that sends no policy header: one object for a million tasks. */
  readonly #plain: TaskPolicy;

  constructor(settings: PolicySettings) {
    this.#settings = settings;
    const { delivery } = settings;
    this.#plain = {
      ...DEFAULT_POLICY,
      maxAttempts: delivery.retryOn === null ? 1 : delivery.maxAttempts,
    };
  }

  /** The policy of a task submitted now with these headers, by a caller at this address. */
  of(headers: IncomingHttpHeaders, now: number, callerAddress: string): TaskPolicy {
    const priority = this.#priority(headers);
    const tenant = this.#tenant(headers, callerAddress);
    const deadlineAt = this.#deadlineAt(headers, now);
    const maxAttempts = this.#maxAttempts(headers);
    const timeoutMs = this.#timeoutMs(headers);
    const callbackUrl = this.#callbackUrl(headers);
    if (
      priority === 'normal' &&
      tenant === null &&
      deadlineAt === null &&
      maxAttempts === this.#plain.maxAttempts &&
      timeoutMs === null &&
      callbackUrl === null
    ) {
      return this.#plain;
    }
    return { priority, tenant, deadlineAt, maxAttempts, timeoutMs, callbackUrl };
  }

  #priority(headers: IncomingHttpHeaders): Priority {
    const raw = single(headers, SUBMIT_HEADERS.priority);
    if (raw === undefined) return 'normal';
    const priority = PRIORITIES.find((level) => level === raw.trim().toLowerCase());
    if (!priority) {
      throw new ProxyHttpError(
        'bad_request',
        `X-Proxy-Priority must be one of ${PRIORITIES.join(', ')}, got '${raw}'`,
      );
    }
    return priority;
  }

  #tenant(headers: IncomingHttpHeaders, callerAddress: string): string | null {
    const key = this.#settings.delivery.fairKey;
    if (key === null) return null;
    if (key.kind === 'ip') return addressTenant(callerAddress, key.ipv6Bits);
    if (key.kind === 'api-key') {
      // With --api-key, every request that gets here carried that key, and a task's stored
      // headers keep no copy of it (a retry is read from those): the key itself names the tenant.
      const token =
        this.#settings.apiKey ??
        /^Bearer\s+(.+)$/i.exec(single(headers, 'authorization') ?? '')?.[1]?.trim();
      // A digest, not the key: tenants show in /stats.
      return token
        ? `key:${createHash('sha256').update(token).digest('base64url').slice(0, 12)}`
        : '';
    }
    const value = single(headers, key.name)?.trim() ?? '';
    if (value.length > 200) {
      throw new ProxyHttpError(
        'bad_request',
        `The tenant header ${key.name} is longer than 200 characters`,
      );
    }
    return value;
  }

  #deadlineAt(headers: IncomingHttpHeaders, now: number): number | null {
    const server = this.#settings.delivery.maxQueueTimeMs;
    const asked = seconds(headers, SUBMIT_HEADERS.maxQueueTime, 'X-Proxy-Max-Queue-Time');
    const wait = asked === null ? server : server === null ? asked : Math.min(asked, server);
    return wait === null ? null : now + wait;
  }

  #maxAttempts(headers: IncomingHttpHeaders): number {
    const server = this.#plain.maxAttempts;
    const raw = single(headers, SUBMIT_HEADERS.maxAttempts);
    if (raw === undefined) return server;
    if (!WHOLE.test(raw.trim()) || Number(raw) < 1) {
      throw new ProxyHttpError(
        'bad_request',
        `X-Proxy-Max-Attempts must be a whole number ≥ 1, got '${raw}'`,
      );
    }
    return Math.min(Number(raw), server);
  }

  #timeoutMs(headers: IncomingHttpHeaders): number | null {
    const asked = seconds(headers, SUBMIT_HEADERS.timeout, 'X-Proxy-Timeout');
    if (asked === null) return null;
    const server = this.#settings.upstreamTimeoutMs;
    return server === null ? asked : Math.min(asked, server);
  }

  #callbackUrl(headers: IncomingHttpHeaders): string | null {
    const raw = single(headers, SUBMIT_HEADERS.callbackUrl);
    if (raw === undefined) return null;
    const callbacks = this.#settings.delivery.callbacks;
    if (callbacks === null) {
      throw new ProxyHttpError(
        'callback_not_allowed',
        'Callbacks are off on this proxy (it was started without --callback-allow)',
      );
    }
    let url: URL;
    try {
      url = new URL(raw.trim());
    } catch {
      throw new ProxyHttpError('bad_request', `X-Proxy-Callback-Url is not a URL: '${raw}'`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ProxyHttpError(
        'callback_not_allowed',
        `X-Proxy-Callback-Url must be an http:// or https:// URL, got a ${url.protocol} one`,
      );
    }
    if (url.username || url.password) {
      throw new ProxyHttpError(
        'callback_not_allowed',
        'X-Proxy-Callback-Url must not carry credentials (user:password@): the signature is what proves the proxy sent it',
      );
    }
    if (!this.allowsCallbackTo(url)) {
      throw new ProxyHttpError(
        'callback_not_allowed',
        `X-Proxy-Callback-Url ${url.origin} is not an origin --callback-allow lists`,
      );
    }
    return url.href;
  }

  /** Whether `--callback-allow`, as it is now, takes this URL (false with callbacks off). */
  allowsCallbackTo(url: URL): boolean {
    return this.#settings.delivery.callbacks?.allow.some((origin) => allows(origin, url)) ?? false;
  }
}

function allows(origin: CallbackOrigin, url: URL): boolean {
  if (url.protocol !== origin.protocol || url.port !== origin.port) return false;
  const host = url.hostname.toLowerCase();
  if (!origin.host.startsWith('*.')) return host === origin.host;
  return host.endsWith(origin.host.slice(1)) && host.length > origin.host.length - 1;
}

/**
 * A header that must be sent once. Node joins a repeated one into a single value, so the submit
 * route hands over repeats as lists (`headersOf`): a list is refused, naming the header.
 */
function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  if (Array.isArray(value)) {
    const label = name.replace(/(^|-)[a-z]/g, (start) => start.toUpperCase());
    throw new ProxyHttpError('bad_request', `Send one ${label} header, not several`);
  }
  return value;
}

function seconds(headers: IncomingHttpHeaders, name: string, label: string): number | null {
  const raw = single(headers, name);
  if (raw === undefined) return null;
  const text = raw.trim();
  // Whole milliseconds: a value that rounds to none would end every call at once.
  const ms = DECIMAL.test(text) ? Math.round(Number(text) * 1000) : Number.NaN;
  if (!(ms >= 1 && ms <= MAX_TASK_HEADER_SECONDS * 1000)) {
    throw new ProxyHttpError(
      'bad_request',
      `${label} must be a number of seconds from 0.001 to ${MAX_TASK_HEADER_SECONDS} (a year), got '${raw}'`,
    );
  }
  return ms;
}

const IPV4 = String.raw`\d{1,3}(?:\.\d{1,3}){3}`;
const WITH_PORT = new RegExp(`^(?:\\[([^\\]]+)\\](?::\\d+)?|(${IPV4}):\\d+)$`);
// How URLs spell an IPv4-mapped IPv6 address, whichever way it was written.
const MAPPED = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/**
 * The caller's address as its tenant (`--fair-key ip`), one name per caller: an IPv4 caller of a
 * dual-stack listener reads `::ffff:a.b.c.d`, some gateways add a port to X-Forwarded-For, an
 * IPv6 address has many spellings, and an IPv6 caller is its network of `ipv6Bits`, written
 * `2001:db8:1:2::/64` (the address itself at 128). A gateway that hides its callers (Squid writes `unknown`)
 * puts them all in the nameless tenant, as does a request whose socket is gone (Node gives no
 * address then). Anything else is a gateway's mistake, or a caller's through a hop count, and
 * would make a tenant of its own: refused.
 */
function addressTenant(address: string | undefined, ipv6Bits: number): string {
  if (address === undefined || address.toLowerCase() === 'unknown') return '';
  const withPort = WITH_PORT.exec(address);
  const bare = withPort ? (withPort[1] ?? withPort[2] ?? '') : address;
  const version = isIP(bare);
  if (version === 4) return bare;
  if (version === 6) {
    let spelt: string;
    try {
      spelt = new URL(`http://[${bare}]`).hostname.slice(1, -1);
    } catch {
      // A zone (`fe80::1%eth0`), which URLs cannot hold.
      return bare.toLowerCase();
    }
    const mapped = MAPPED.exec(spelt);
    if (!mapped) return ipv6Bits === 128 ? spelt : `${ipv6Network(spelt, ipv6Bits)}/${ipv6Bits}`;
    const [high, low] = [parseInt(mapped[1] ?? '', 16), parseInt(mapped[2] ?? '', 16)];
    return [high >> 8, high & 255, low >> 8, low & 255].join('.');
  }
  const shown = address.length > 100 ? `${address.slice(0, 100)}...` : address;
  throw new ProxyHttpError(
    'bad_request',
    `The caller's address ${JSON.stringify(shown)} (from X-Forwarded-For) is not an IP address: --fair-key ip needs one`,
  );
}

/** The first `bits` of an IPv6 address as URLs spell it (hex groups, `::` for the zeros). */
function ipv6Network(spelt: string, bits: number): string {
  const groupsOf = (part: string | undefined) =>
    part ? part.split(':').map((group) => Number.parseInt(group, 16)) : [];
  const [head, tail] = spelt.split('::');
  const high = groupsOf(head);
  const low = groupsOf(tail);
  const groups = [...high, ...new Array<number>(8 - high.length - low.length).fill(0), ...low];
  const network = groups.map((group, at) => {
    const kept = Math.min(16, Math.max(0, bits - at * 16));
    return group & (0xffff << (16 - kept)) & 0xffff;
  });
  return new URL(`http://[${network.map((group) => group.toString(16)).join(':')}]`).hostname.slice(
    1,
    -1,
  );
}
