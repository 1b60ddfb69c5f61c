import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import {
  callbackUrlFault,
  MAX_TASK_HEADER_SECONDS,
  PRIORITIES,
  type Priority,
  SUBMIT_HEADERS,
} from 'proxy-client/wire';
import type { CallbackOrigin, DeliveryConfig } from '../config/config.js';
import { DECIMAL, WHOLE } from '../decimal.js';
import { DEFAULT_POLICY, type TaskPolicy } from '../engine/task-record.js';
import { ProxyHttpError, sentSeveralTimes } from '../errors.js';
import { callerTenant } from './caller-tenant.js';

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
    if (key.kind === 'ip') return callerTenant(callerAddress, key.ipv6Bits);
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
    // Every URL refused, an empty or relative one too, under one code: as the errors table files it.
    const fault = callbackUrlFault('X-Proxy-Callback-Url', raw);
    if (fault !== undefined) throw new ProxyHttpError('callback_not_allowed', fault);
    const url = new URL(raw.trim());
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
    throw sentSeveralTimes(name.replace(/(^|-)[a-z]/g, (start) => start.toUpperCase()));
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
