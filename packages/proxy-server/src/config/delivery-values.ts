import type { TaskErrorCode } from 'proxy-client/wire';
import { DECIMAL } from '../decimal.js';
import type { RetryOn } from '../engine/retry-policy.js';
import type { CallbackOrigin, FairKey } from './config.js';
import type { ValueParser } from './values.js';

/** The transport failures `--retry-on` names, and the task errors they are. */
const RETRYABLE_ERRORS: Record<string, TaskErrorCode> = {
  refused: 'upstream_refused',
  reset: 'upstream_reset',
  timeout: 'upstream_timeout',
  unreachable: 'upstream_unreachable',
};

/** `502,503,504,refused,reset,timeout`: target statuses and transport failures. */
export const retryOnList: ValueParser<RetryOn> = {
  expected: `a comma-separated list of HTTP statuses (400-599) and of ${Object.keys(RETRYABLE_ERRORS).join(', ')}`,
  parse(raw) {
    const statuses = new Set<number>();
    const errors = new Set<TaskErrorCode>();
    for (const item of raw.split(',').map((part) => part.trim().toLowerCase())) {
      if (item === '') continue;
      const error = RETRYABLE_ERRORS[item];
      if (error) errors.add(error);
      else if (/^\d{3}$/.test(item) && Number(item) >= 400 && Number(item) <= 599) {
        statuses.add(Number(item));
      } else return undefined;
    }
    return statuses.size + errors.size > 0 ? { statuses, errors } : undefined;
  },
};

/** A number > 0, decimals allowed. */
export const positiveNumber: ValueParser<number> = {
  expected: 'a number > 0',
  parse(raw) {
    if (!DECIMAL.test(raw.trim())) return undefined;
    const value = Number(raw);
    return value > 0 && Number.isFinite(value) ? value : undefined;
  },
};

/**
 * `header:X-Tenant`, `api-key`, or `ip`, where `ip/<bits>` groups IPv6 callers by another network
 * than the /64 (caller-tenant.ts says why); below a /32, an ISP's, it would be no grouping a user
 * means.
 */
export const fairKey: ValueParser<FairKey> = {
  expected:
    "'header:<name>' (a request header), 'api-key' or 'ip' (the caller's address, an IPv6 caller by its /64, or by a network from 'ip/32' to 'ip/128')",
  parse(raw) {
    const value = raw.trim();
    if (value.toLowerCase() === 'api-key') return { kind: 'api-key' };
    const ip = /^ip(?:\/(\d{1,3}))?$/i.exec(value);
    if (ip?.[1] !== undefined) {
      const ipv6Bits = Number(ip[1]);
      return ipv6Bits >= 32 && ipv6Bits <= 128 ? { kind: 'ip', ipv6Bits } : undefined;
    }
    if (ip) return { kind: 'ip' };
    const header = /^header:([!#$%&'*+.^_`|~0-9A-Za-z-]+)$/i.exec(value)?.[1];
    return header ? { kind: 'header', name: header.toLowerCase() } : undefined;
  },
};

/** `https://hooks.example.com,https://*.internal.example:8443`. */
export const callbackOrigins: ValueParser<CallbackOrigin[]> = {
  expected:
    "a comma-separated list of origins (scheme, host and port: no path) such as https://hooks.example.com, with '*.' before a domain for its subdomains",
  parse(raw) {
    const origins: CallbackOrigin[] = [];
    for (const item of listItems(raw)) {
      const origin = callbackOrigin(item);
      if (origin === undefined) return undefined;
      origins.push(origin);
    }
    return origins.length > 0 ? origins : undefined;
  },
  refusedItem: (raw) => listItems(raw).find((item) => callbackOrigin(item) === undefined),
};

function listItems(raw: string): string[] {
  return raw
    .split(',')
    .map((part) => part.trim())
    .filter((item) => item !== '');
}

function callbackOrigin(item: string): CallbackOrigin | undefined {
  // Any host the URL parser takes, Unicode too: it is judged below, as a callback URL's is.
  const match = /^(https?):\/\/(\*\.)?([^/?#@:[\]\\\s]+|\[[0-9a-f:.]+\])(?::(\d{1,5}))?\/?$/iu.exec(
    item,
  );
  if (!match) return undefined;
  const [, scheme, wildcard, host, portText] = match;
  const protocol = `${scheme?.toLowerCase()}:` as 'http:' | 'https:';
  const defaultPort = protocol === 'https:' ? '443' : '80';
  // No callback URL can name another port: such an origin would refuse every callback.
  const port = portText === undefined ? undefined : String(Number(portText));
  if (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65_535)) return undefined;
  // As the URL parser writes it, which is how a callback URL's host is compared:
  // [0:0:0:0:0:0:0:1] is [::1], 127.1 is 127.0.0.1, bücher.example is xn--bcher-kva.example.
  const hostname = canonicalHost(host ?? '');
  if (hostname === undefined) return undefined;
  return {
    protocol,
    host: `${wildcard ?? ''}${hostname}`,
    port: port === undefined || port === defaultPort ? '' : port,
  };
}

/**
 * The host as the URL parser writes a callback URL's (domainToASCII: lower case, punycode), or
 * undefined when it is none a callback could name: what the parser lets through besides letters,
 * digits, dots and dashes (`a*b`, `a!b`) is no host a receiver is reached at.
 */
function canonicalHost(host: string): string | undefined {
  let hostname: string;
  try {
    hostname = new URL(`http://${host}`).hostname;
  } catch {
    return undefined;
  }
  return /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])$/.test(hostname) ? hostname : undefined;
}

/** A Standard Webhooks secret: `whsec_` and base64 of at least 24 bytes. */
export const webhookSecret: ValueParser<string> = {
  expected: "a Standard Webhooks secret: 'whsec_' followed by base64 of 24 to 64 random bytes",
  parse(raw) {
    const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(raw.trim());
    if (!match?.[1]) return undefined;
    const bytes = Buffer.from(match[1], 'base64').length;
    return bytes >= 24 && bytes <= 64 ? raw.trim() : undefined;
  },
};
