import { isSendableHeaderValue, SUBMIT_HEADERS } from 'proxy-client/wire';

/** The submission headers a flag of the CLI sets: `--header` names the flag instead. */
const SET_BY_FLAG: Readonly<Record<string, string>> = {
  [SUBMIT_HEADERS.idempotencyKey]: '--idempotency-key',
  [SUBMIT_HEADERS.priority]: '--priority',
  [SUBMIT_HEADERS.maxAttempts]: '--max-attempts',
  [SUBMIT_HEADERS.maxQueueTime]: '--max-queue-time',
  [SUBMIT_HEADERS.timeout]: '--upstream-timeout',
  [SUBMIT_HEADERS.callbackUrl]: '--callback-url',
  'content-type': '--data, which sends JSON as application/json',
};

/** Framing of the request, which the connection sets: never the caller's to give. */
const FRAMING = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
]);

/** Header values a printed command shows as a placeholder: they are credentials. */
const SECRET = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key']);

/** RFC 9110 token: the characters a header name may hold. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * `--header 'Name: value'`, given once per header: the headers by name as typed. A name that is
 * not a token, a value with a line break or another character a header cannot carry, a header
 * given twice, one a flag sets or one the connection sets is refused by `fail` with what was
 * wrong.
 */
export function headersOf(values: readonly string[], fail: (message: string) => Error) {
  const headers: Record<string, string> = {};
  const seen = new Set<string>();
  for (const given of values) {
    const colon = given.indexOf(':');
    const name = colon === -1 ? '' : given.slice(0, colon).trim();
    const value = colon === -1 ? '' : given.slice(colon + 1).trim();
    if (!TOKEN.test(name)) {
      // Not the value: a mistyped 'Authorization Bearer …' would print the credential.
      const got = colon === -1 ? 'no colon' : `'${name}' before the colon`;
      throw fail(`--header must be 'Name: value' with a header name before the colon, got ${got}`);
    }
    if (/[\r\n\0]/.test(value)) throw fail(`--header ${name}: the value holds a line break`);
    if (!isSendableHeaderValue(value)) {
      throw fail(
        `--header ${name}: the value holds a character a header cannot carry (a control character, or one beyond Latin-1 such as Ł)`,
      );
    }
    const lower = name.toLowerCase();
    if (seen.has(lower)) throw fail(`--header ${name} is given twice: give each header once`);
    const flag = SET_BY_FLAG[lower];
    if (flag) throw fail(`--header ${name}: that one is set by ${flag}`);
    if (lower === SUBMIT_HEADERS.prefer) refuseProxyPreferences(name, value, fail);
    if (FRAMING.has(lower)) throw fail(`--header ${name}: the connection sets that one`);
    seen.add(lower);
    headers[name] = value;
  }
  return headers;
}

/**
 * `Prefer` carries the target's preferences (`return=minimal`), which the proxy forwards, and
 * two of the proxy's own: `wait`, which `--wait` sets, and `respond-async`, its default.
 */
function refuseProxyPreferences(name: string, value: string, fail: (message: string) => Error) {
  for (const preference of value.split(',')) {
    const token = /^\s*([^=;\s]*)/.exec(preference)?.[1]?.toLowerCase();
    if (token === 'wait') throw fail(`--header ${name}: its wait is set by --wait`);
    if (token === 'respond-async') {
      throw fail(`--header ${name}: its respond-async is the proxy's answer without --wait`);
    }
  }
}

/** The flags that give `headers` again, in a command printed for the user to run. */
export function headerArgs(headers: Readonly<Record<string, string>>): string[] {
  return Object.entries(headers).flatMap(([name, value]) => [
    '--header',
    `${name}: ${SECRET.has(name.toLowerCase()) ? '<value>' : value}`,
  ]);
}
