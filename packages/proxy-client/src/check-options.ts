import { closestName } from './closest-name.js';
import type { Hooks } from './hooks.js';
import type {
  CleanupOptions,
  IterateTasksOptions,
  ListTasksOptions,
  ProxyClientOptions,
  RequestOptions,
  ResultOptions,
  RetryTaskOptions,
  RunOptions,
  SubmitOptions,
  WaitOptions,
  WatchEventsOptions,
  WatchTaskOptions,
} from './options.js';
import { isSendableHeaderValue } from './wire.js';

/*
 * Plain JavaScript gets no compiler to catch `{ pollIntervall: 5000 }`, and a misspelled option
 * that is silently ignored makes a wait poll on the wrong schedule or never time out. So every
 * method checks its options at run time: an unknown name throws a TypeError naming it, a likely
 * meant name, and the known ones. Each list is a `Record` over the option type's keys, so the
 * compiler keeps the lists and the interfaces in step.
 */

type Names<T> = Readonly<Record<keyof T, true>>;

const REQUEST: Names<RequestOptions> = {
  signal: true,
  timeoutMs: true,
  timeout: true,
  headers: true,
  maxRetries: true,
};
const { maxRetries: _, ...REQUEST_WITHOUT_RETRIES } = REQUEST;
const SUBMIT = {
  ...REQUEST,
  method: true,
  query: true,
  queueFullRetries: true,
  maxRetryAfterMs: true,
  idempotencyKey: true,
  waitMs: true,
  wait: true,
  priority: true,
  callbackUrl: true,
  maxAttempts: true,
  maxQueueTimeMs: true,
  upstreamTimeoutMs: true,
} satisfies Names<SubmitOptions>;
const RUN = {
  ...SUBMIT,
  pollIntervalMs: true,
  pollInterval: true,
  onStatus: true,
  onOutage: true,
  throwOnFailure: true,
} satisfies Names<RunOptions>;

export const OPTION_NAMES = {
  ProxyClient: {
    baseUrl: true,
    apiKey: true,
    timeoutMs: true,
    timeout: true,
    headers: true,
    maxRetries: true,
    fetch: true,
    hooks: true,
  } satisfies Names<ProxyClientOptions>,
  getTask: REQUEST,
  getStats: REQUEST,
  health: REQUEST,
  info: REQUEST,
  cancelTask: REQUEST,
  watchTask: { ...REQUEST, onOpen: true } satisfies Names<WatchTaskOptions>,
  submitTask: SUBMIT,
  submit: SUBMIT,
  retryTask: {
    ...REQUEST_WITHOUT_RETRIES,
    waitMs: true,
    wait: true,
    queueFullRetries: true,
    maxRetryAfterMs: true,
  } satisfies Names<RetryTaskOptions>,
  getResult: { ...REQUEST, waitMs: true, wait: true } satisfies Names<ResultOptions>,
  watchEvents: {
    ...REQUEST,
    status: true,
    lastEventId: true,
    onOutage: true,
    onOpen: true,
  } satisfies Names<WatchEventsOptions>,
  waitForTask: {
    ...REQUEST,
    pollIntervalMs: true,
    pollInterval: true,
    onStatus: true,
    onOutage: true,
    throwOnFailure: true,
  } satisfies Names<WaitOptions>,
  run: RUN,
  submitAndWait: RUN,
  listTasks: {
    ...REQUEST,
    status: true,
    limit: true,
    offset: true,
  } satisfies Names<ListTasksOptions>,
  iterateTasks: { ...REQUEST, status: true, pageSize: true } satisfies Names<IterateTasksOptions>,
  cleanupTasks: { ...REQUEST, maxAgeMs: true, maxAgeHours: true } satisfies Names<CleanupOptions>,
} as const;

/** Second spellings of one option: the contract's names without the unit, also milliseconds. */
const ALIASES: Readonly<Record<string, string>> = {
  timeout: 'timeoutMs',
  pollInterval: 'pollIntervalMs',
  wait: 'waitMs',
};

/**
 * An option's name as its messages give it: with its second spelling, so that a caller who wrote
 * `pollInterval` (as the docs' first example does) finds the option the message is about.
 */
export function optionLabel(main: string): string {
  const alias = Object.keys(ALIASES).find((name) => ALIASES[name] === main);
  return alias === undefined ? main : `${main} (or ${alias})`;
}

/** Names people reach for that mean another option, with what to write instead. */
const INSTEAD: Readonly<Record<string, string>> = {
  retry: "'maxRetries' (it replaced retry.reads)",
  retries: "'maxRetries'",
  interval: "'pollIntervalMs'",
  maxRetries:
    "'queueFullRetries': retryTask is never retried after a network error or a 5xx, since a repeat would run the task once more",
};

/** What `wait` stands for is the HTTP API's `?wait=`: a wait's own reads ask for that hold. */
const HELD_BY_ITSELF = 'it asks for ?wait= holds by itself';

/** Names one method does not know that mean another of its options there. */
const INSTEAD_IN: Partial<Record<keyof typeof OPTION_NAMES, Readonly<Record<string, string>>>> = {
  waitForTask: {
    wait: `'timeout' (the longest the whole wait may take) or 'pollInterval' (the pause between reads): ${HELD_BY_ITSELF}`,
    waitMs: `'timeoutMs' (the longest the whole wait may take) or 'pollIntervalMs' (the pause between reads): ${HELD_BY_ITSELF}`,
  },
};

/**
 * Checks `options` against the names `where` knows and answers them with every alias replaced by
 * its main name. Throws a TypeError for an unknown name or for an option given under both names.
 */
export function checkOptions<T extends object>(
  where: keyof typeof OPTION_NAMES,
  options: T | undefined,
): T {
  if (options === undefined) return {} as T;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${label(where)}: options must be an object, got ${describe(options)}`);
  }
  const known = OPTION_NAMES[where] as Readonly<Record<string, true>>;
  const checked = { ...options } as Record<string, unknown>;
  for (const name of Object.keys(options)) {
    if (!Object.hasOwn(known, name)) throw unknownOption(where, name, Object.keys(known));
    const main = ALIASES[name];
    if (main === undefined || !Object.hasOwn(known, main)) continue;
    const value = checked[name];
    delete checked[name];
    if (value === undefined) continue;
    if (checked[main] !== undefined) {
      throw new TypeError(
        `${label(where)}: '${name}' and '${main}' are the same option (milliseconds); give one`,
      );
    }
    checked[main] = value;
  }
  checkSignal(where, checked['signal']);
  checkHeaders(where, checked['headers']);
  checkFetchAndHooks(where, checked['fetch'], checked['hooks']);
  for (const listener of ['onStatus', 'onOutage', 'onOpen']) {
    const value = checked[listener];
    // Called only at a status change, an outage or a connection: found out then, the mistake
    // would end the wait, or pass unseen among what a reporting listener throws.
    if (value !== undefined && typeof value !== 'function') {
      throw new TypeError(
        `${label(where)}: ${listener} must be a function, got ${describe(value)}`,
      );
    }
  }
  const lastEventId = checked['lastEventId'];
  if (typeof lastEventId === 'string' && /[\r\n\0]/.test(lastEventId)) {
    // An event id never holds these (the SSE format ends a field at a line break).
    throw new TypeError(
      `${label(where)}: lastEventId must be an event id as received, got ${JSON.stringify(lastEventId)}`,
    );
  }
  return checked as T;
}

/**
 * A duration given as a string (`'5000'`, read from an environment variable) passes `> 0` but
 * then concatenates where it should add, so a poll loop would spin: only a number will do.
 */
export function checkIsNumber(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'number') {
    throw new TypeError(
      `${optionLabel(name)} must be a number of milliseconds, got ${typeof value === 'string' ? `the string ${JSON.stringify(value)}` : describe(value)}`,
    );
  }
}

/**
 * Anything else given as `signal` fails deep inside: `throwIfAborted is not a function`, or a
 * TypeError from fetch that reads as a proxy out of reach. Only a real one will do: ky and
 * `AbortSignal.any` refuse a look-alike.
 */
function checkSignal(where: string, signal: unknown): void {
  if (signal === undefined || signal instanceof AbortSignal) return;
  const got =
    signal instanceof AbortController ? 'an AbortController (pass its .signal)' : describe(signal);
  throw new TypeError(`${label(where)}: signal must be an AbortSignal, got ${got}`);
}

/** Headers a caller may not set, and why. */
const REFUSED_HEADERS: Readonly<Record<string, string>> = {
  'content-length': 'the SDK sets it from the body it sends',
  'transfer-encoding': 'the SDK sets it from the body it sends',
  connection: 'the HTTP client manages its connections',
  'keep-alive': 'the HTTP client manages its connections',
  upgrade: 'fetch cannot send it',
  expect: 'fetch cannot send it',
};

/**
 * Headers fetch would refuse are a TypeError now: sent, fetch's refusal looks like a network
 * error, and the call would be retried and reported as a proxy out of reach.
 */
function checkHeaders(where: string, headers: unknown): void {
  if (headers === undefined) return;
  // A Headers instance or an array would be spread to nothing on the way to the request.
  const prototype =
    typeof headers === 'object' && headers !== null && Object.getPrototypeOf(headers);
  if (prototype !== Object.prototype && prototype !== null) {
    throw new TypeError(`${label(where)}: headers must be a plain object of names and values`);
  }
  const given = headers as Record<string, string>;
  for (const [name, value] of Object.entries(given)) {
    // `Headers` lets control characters such as \x01 through, and undici then refuses them at
    // send time; beyond Latin-1 it throws a ByteString error that names no header. The value may
    // be a secret, so the message shows the name only.
    if (!isSendableHeaderValue(String(value))) {
      throw new TypeError(
        `${label(where)}: header ${JSON.stringify(name)} has a value fetch cannot send: only tabs and printable ASCII or Latin-1 characters, no control characters such as a line break`,
      );
    }
  }
  try {
    new Headers(given);
  } catch (error) {
    throw new TypeError(`${label(where)}: ${(error as Error).message}`, { cause: error });
  }
  for (const name of Object.keys(given)) {
    const why = REFUSED_HEADERS[name.toLowerCase()];
    if (why !== undefined)
      throw new TypeError(`${label(where)}: headers must not set ${name}: ${why}`);
  }
}

/** The hooks ky runs, each a list of functions. */
const HOOK_NAMES: Readonly<Record<keyof Hooks, true>> = {
  beforeRequest: true,
  beforeRetry: true,
  afterResponse: true,
};

/**
 * ky skips a hook list that is not an array and an unknown hook name without a word, so a hook
 * given bare (`beforeRequest: fn`) or misspelled would never run; and a `fetch` that is not a
 * function would fail every call as a proxy out of reach, retried. Both are TypeErrors now.
 */
function checkFetchAndHooks(where: string, fetch: unknown, hooks: unknown): void {
  if (fetch !== undefined && typeof fetch !== 'function') {
    throw new TypeError(`${label(where)}: fetch must be a function, got ${describe(fetch)}`);
  }
  if (hooks === undefined) return;
  if (typeof hooks !== 'object' || hooks === null || Array.isArray(hooks)) {
    throw new TypeError(`${label(where)}: hooks must be an object, got ${describe(hooks)}`);
  }
  const known = Object.keys(HOOK_NAMES);
  for (const [name, list] of Object.entries(hooks)) {
    if (!Object.hasOwn(HOOK_NAMES, name)) {
      const meant = closestName(name, known);
      // ky's own beforeError is left out on purpose (see Hooks): say so rather than offer a typo.
      const why =
        name === 'beforeError'
          ? ': the SDK replaces every HTTP error with its own typed error, so nothing such a hook changed would reach you.'
          : meant
            ? `; did you mean '${meant}'?`
            : '.';
      throw new TypeError(
        `${label(where)}: unknown hook '${name}'${why} Known hooks: ${known.join(', ')}.`,
      );
    }
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      throw new TypeError(
        `${label(where)}: hooks.${name} must be a list of functions, got ${describe(list)}`,
      );
    }
    const wrong = list.findIndex((hook: unknown) => typeof hook !== 'function');
    if (wrong !== -1) {
      throw new TypeError(
        `${label(where)}: hooks.${name} must be a list of functions, got an array holding ${describe(list[wrong])}`,
      );
    }
  }
}

function unknownOption(
  where: keyof typeof OPTION_NAMES,
  name: string,
  known: readonly string[],
): TypeError {
  const meant =
    INSTEAD_IN[where]?.[name] ??
    INSTEAD[name] ??
    (closestName(name, known) === undefined ? undefined : `'${closestName(name, known)}'`);
  return new TypeError(
    `${label(where)}: unknown option '${name}'${meant ? `; did you mean ${meant}?` : '.'} ` +
      `Known options: ${known.join(', ')}.`,
  );
}

function label(where: string): string {
  if (where === 'ProxyClient') return 'new ProxyClient()';
  return `${where}()`;
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}
