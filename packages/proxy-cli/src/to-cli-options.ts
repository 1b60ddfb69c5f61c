import { METHODS } from 'node:http';
import {
  isSendableApiKey,
  isSubmittableMethod,
  MAX_TIMER_MS,
  PRIORITIES,
  type Priority,
  toSubmitPath,
} from 'proxy-client';
import {
  callbackUrlFault,
  endsUnderApi,
  isTaskStatus,
  MAX_CLEANUP_AGE_HOURS,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  MAX_OFFSET,
  MAX_PAGE_SIZE,
  MAX_TASK_HEADER_SECONDS,
  TASK_STATUSES,
  type TaskStatus,
} from 'proxy-client/wire';
import { CliError } from './cli-error.js';
import { EXIT_CODES } from './exit-codes.js';
import { headersOf } from './header-option.js';
import {
  type Action,
  type CliOptions,
  type DataSource,
  DEFAULT_CLEANUP_HOURS,
  DEFAULT_STATS_REFRESH_MS,
  DEFAULT_URL,
  DEMO_NAMES,
  DEMO_PROXY_STOPS_ENV,
  type DemoName,
} from './options.js';
import { isRunByNpx } from './resume.js';
import { DROP_API } from './url-under-api.js';

/** What commander hands back: strings and booleans, unchecked. */
export interface RawOptions {
  demo?: string | true;
  stats?: true;
  taskId?: string;
  listTasks?: true;
  submit?: string;
  cleanup?: string | true;
  health?: true;
  cancel?: string;
  retry?: string;
  watch?: true;
  wait?: true;
  pollInterval?: string;
  timeout?: string;
  data?: string;
  method?: string;
  idempotencyKey?: string;
  priority?: string;
  callbackUrl?: string;
  maxAttempts?: string;
  maxQueueTime?: string;
  upstreamTimeout?: string;
  header?: string[];
  status?: string;
  limit?: string;
  offset?: string;
  url?: string;
  apiKey?: string;
  json?: true;
  color: boolean;
}

export const ACTION_FLAGS = {
  demo: '--demo',
  stats: '--stats',
  taskId: '--task-id',
  listTasks: '--list-tasks',
  submit: '--submit',
  cleanup: '--cleanup',
  health: '--health',
  cancel: '--cancel',
  retry: '--retry',
  watch: '--watch',
} as const satisfies Partial<Record<keyof RawOptions, string>>;

/** Flags that only mean something next to some actions, and which. */
const DEPENDENT_FLAGS: ReadonlyArray<{
  key: keyof RawOptions;
  flag: string;
  with: ReadonlyArray<keyof typeof ACTION_FLAGS>;
}> = [
  { key: 'wait', flag: '--wait', with: ['taskId', 'submit', 'retry'] },
  {
    key: 'pollInterval',
    flag: '--poll-interval',
    with: ['taskId', 'submit', 'retry', 'demo', 'stats'],
  },
  {
    key: 'timeout',
    flag: '--timeout',
    with: [
      'taskId',
      'submit',
      'retry',
      'demo',
      'stats',
      'listTasks',
      'health',
      'cleanup',
      'cancel',
    ],
  },
  { key: 'data', flag: '--data', with: ['submit'] },
  { key: 'method', flag: '--method', with: ['submit'] },
  { key: 'idempotencyKey', flag: '--idempotency-key', with: ['submit'] },
  { key: 'priority', flag: '--priority', with: ['submit'] },
  { key: 'callbackUrl', flag: '--callback-url', with: ['submit'] },
  { key: 'maxAttempts', flag: '--max-attempts', with: ['submit'] },
  { key: 'maxQueueTime', flag: '--max-queue-time', with: ['submit'] },
  { key: 'upstreamTimeout', flag: '--upstream-timeout', with: ['submit'] },
  { key: 'header', flag: '--header', with: ['submit'] },
  { key: 'status', flag: '--status', with: ['listTasks', 'watch'] },
  { key: 'limit', flag: '--limit', with: ['listTasks'] },
  { key: 'offset', flag: '--offset', with: ['listTasks'] },
];

/**
 * Whether a flag of the whole program belongs in the help of a command that runs `raw`: the
 * flags that go with its action (but not one the command sets itself), then those that go
 * with any (connection and output). Other actions and their flags are noise there.
 */
export function goesWith(raw: Partial<RawOptions>): (flag: string) => boolean {
  const [action] = (Object.keys(ACTION_FLAGS) as Array<keyof typeof ACTION_FLAGS>).filter(
    (key) => raw[key] !== undefined,
  );
  const fitting = new Set(
    DEPENDENT_FLAGS.filter(
      (dependent) =>
        action !== undefined && dependent.with.includes(action) && raw[dependent.key] === undefined,
    ).map((dependent) => dependent.flag),
  );
  // --stats --watch is one action: the stats, read again and again.
  if (action === 'stats') fitting.add(ACTION_FLAGS.watch);
  const bound = new Set<string>([
    ...Object.values(ACTION_FLAGS),
    ...DEPENDENT_FLAGS.map((dependent) => dependent.flag),
  ]);
  return (flag) => fitting.has(flag) || !bound.has(flag);
}

/** Without a hint of its own, `parseArgv` points the error at --help, started as this run was. */
const usage = (message: string, hint?: string) => new CliError(EXIT_CODES.usage, message, hint);

const list = (flags: readonly string[]) =>
  flags.length === 1 ? flags[0] : `${flags.slice(0, -1).join(', ')} or ${flags.at(-1)}`;

export function toCliOptions(
  raw: RawOptions,
  env: Readonly<Record<string, string | undefined>>,
): CliOptions {
  // --stats --watch is one action: the stats, read again and again.
  const statsWatch = raw.stats !== undefined && raw.watch !== undefined;
  const chosen = (Object.keys(ACTION_FLAGS) as Array<keyof typeof ACTION_FLAGS>).filter(
    (key) => raw[key] !== undefined && !(statsWatch && key === 'watch'),
  );
  const [only] = chosen;
  const orphan = DEPENDENT_FLAGS.find((dependent) => raw[dependent.key] !== undefined);
  if (only === undefined && orphan) {
    throw usage(
      `${orphan.flag} goes with ${list(orphan.with.map((k) => ACTION_FLAGS[k]))}: give one of them too`,
    );
  }
  if (only === undefined) {
    throw usage(
      `no action given: choose a command (stats, list, wait <id>, …) or one of ${list(Object.values(ACTION_FLAGS))}`,
    );
  }
  if (chosen.length > 1) {
    throw usage(
      `choose one action per call, got ${chosen.map((k) => ACTION_FLAGS[k]).join(' and ')}`,
    );
  }
  for (const dependent of DEPENDENT_FLAGS) {
    if (raw[dependent.key] !== undefined && !dependent.with.includes(only)) {
      throw usage(
        `${dependent.flag} goes with ${list(dependent.with.map((k) => ACTION_FLAGS[k]))}, not ${ACTION_FLAGS[only]}`,
      );
    }
  }

  if (only === 'stats' && !statsWatch && raw.pollInterval !== undefined) {
    throw usage('--poll-interval goes with --stats only with --watch (how often to refresh)');
  }
  if (statsWatch && raw.timeout !== undefined) {
    throw usage('--timeout goes with --stats only without --watch, which runs until Ctrl-C');
  }
  // Without --wait a task, submit or retry call never polls, so this would silently do nothing;
  // its one request is bounded by --timeout, as --stats is.
  if (
    (only === 'taskId' || only === 'submit' || only === 'retry') &&
    raw.wait === undefined &&
    raw.pollInterval !== undefined
  ) {
    throw usage('--poll-interval only matters with --wait');
  }

  const envUrl = nonEmpty(env['PROXY_URL']);
  const urlSource = raw.url !== undefined ? 'flag' : envUrl ? 'env' : 'default';
  const url = checkUrl(
    raw.url ?? envUrl ?? DEFAULT_URL,
    urlSource === 'flag' ? '--url' : urlSource === 'env' ? 'PROXY_URL' : 'default',
  );
  // The proxy would take these for tasks and send the target a POST or DELETE it may act on;
  // a submission would be queued as asked, under /api/api/, and fail only later at the target.
  // A read under /api becomes a GET at the target, which the answer then explains.
  if (
    (only === 'cancel' || only === 'retry' || only === 'cleanup' || only === 'submit') &&
    endsUnderApi(url)
  ) {
    const consequence =
      only === 'submit'
        ? 'the task would go to the target under /api/api/'
        : `${ACTION_FLAGS[only]} would reach the target as a task`;
    throw usage(
      `${urlSource === 'env' ? 'PROXY_URL' : '--url'} ${url} ends in /api: ${consequence}; nothing was sent`,
      DROP_API,
    );
  }
  const envKey = nonEmpty(env['PROXY_API_KEY']);
  const apiKey =
    raw.apiKey !== undefined
      ? checkApiKey(raw.apiKey, '--api-key')
      : envKey && checkApiKey(envKey, 'PROXY_API_KEY');
  const action = toAction(only, raw, statsWatch, env);
  const headerNames = action.kind === 'submit' ? Object.keys(action.headers ?? {}) : [];
  if (apiKey !== undefined && headerNames.some((name) => name.toLowerCase() === 'authorization')) {
    throw usage(
      "--header Authorization would replace the proxy's API key (--api-key or PROXY_API_KEY), and the proxy never passes its key on",
    );
  }

  return {
    action,
    url,
    urlSource,
    ...(apiKey !== undefined && {
      apiKey,
      apiKeySource: raw.apiKey !== undefined ? 'flag' : 'env',
    }),
    json: raw.json === true,
    color: raw.color,
    ...(raw.pollInterval !== undefined && {
      pollIntervalMs: seconds('--poll-interval', raw.pollInterval, TIMER_SECONDS) * 1000,
    }),
    ...(raw.timeout !== undefined && {
      timeoutMs: seconds('--timeout', raw.timeout, TIMER_SECONDS) * 1000,
    }),
    ...(isRunByNpx(env) && { runByNpx: true }),
  };
}

function toAction(
  kind: keyof typeof ACTION_FLAGS,
  raw: RawOptions,
  statsWatch: boolean,
  env: Readonly<Record<string, string | undefined>>,
): Action {
  switch (kind) {
    case 'demo': {
      const demos = demoNames(raw.demo);
      return nonEmpty(env[DEMO_PROXY_STOPS_ENV])
        ? { kind: 'demo', demos, proxyStops: true }
        : { kind: 'demo', demos };
    }
    case 'stats': {
      if (!statsWatch) return { kind: 'stats' };
      const refreshMs =
        raw.pollInterval === undefined
          ? DEFAULT_STATS_REFRESH_MS
          : seconds('--poll-interval', raw.pollInterval, TIMER_SECONDS) * 1000;
      return { kind: 'stats', watch: { refreshMs } };
    }
    case 'cancel':
      return { kind: 'cancel', taskId: taskId(raw.cancel ?? '', '--cancel') };
    case 'retry':
      return { kind: 'retry', taskId: taskId(raw.retry ?? '', '--retry'), wait: raw.wait === true };
    case 'watch': {
      const statuses = raw.status === undefined ? undefined : statusList(raw.status);
      return { kind: 'watch', ...(statuses && { statuses }) };
    }
    case 'health':
      return { kind: 'health' };
    case 'taskId':
      return {
        kind: 'task',
        taskId: taskId(raw.taskId ?? '', '--task-id'),
        wait: raw.wait === true,
      };
    case 'listTasks': {
      const status = raw.status;
      if (status?.includes(',')) {
        throw usage(
          `--status takes one status with --list-tasks, got '${status}' (several, comma-separated, go with --watch)`,
        );
      }
      if (status !== undefined && !isTaskStatus(status)) {
        throw usage(`--status must be one of ${TASK_STATUSES.join(', ')}, got '${status}'`);
      }
      return {
        kind: 'list',
        ...(status !== undefined && { status }),
        ...(raw.limit !== undefined && {
          limit: integer('--limit', raw.limit, 1, MAX_PAGE_SIZE),
        }),
        ...(raw.offset !== undefined && {
          offset: integer('--offset', raw.offset, 0, MAX_OFFSET),
        }),
      };
    }
    case 'submit': {
      const verb = method(raw.method ?? 'POST');
      if (raw.data !== undefined && (verb === 'GET' || verb === 'HEAD')) {
        throw usage(`--data cannot go with --method ${verb}: a ${verb} request has no body`);
      }
      return {
        kind: 'submit',
        path: submitPath(raw.submit ?? ''),
        method: verb,
        ...(raw.data !== undefined && { data: dataSource(raw.data) }),
        wait: raw.wait === true,
        ...(raw.idempotencyKey !== undefined && {
          idempotencyKey: idempotencyKey(raw.idempotencyKey),
        }),
        ...(raw.priority !== undefined && { priority: priority(raw.priority) }),
        ...(raw.callbackUrl !== undefined && { callbackUrl: callbackUrl(raw.callbackUrl) }),
        ...(raw.maxAttempts !== undefined && {
          maxAttempts: wholeAtLeastOne('--max-attempts', raw.maxAttempts),
        }),
        ...(raw.maxQueueTime !== undefined && {
          maxQueueTimeMs:
            seconds('--max-queue-time', raw.maxQueueTime, MAX_TASK_HEADER_SECONDS) * 1000,
        }),
        ...(raw.upstreamTimeout !== undefined && {
          upstreamTimeoutMs:
            seconds('--upstream-timeout', raw.upstreamTimeout, MAX_TASK_HEADER_SECONDS) * 1000,
        }),
        ...(raw.header !== undefined && { headers: headersOf(raw.header, usage) }),
      };
    }
    case 'cleanup':
      return {
        kind: 'cleanup',
        maxAgeHours:
          raw.cleanup === true || raw.cleanup === undefined
            ? DEFAULT_CLEANUP_HOURS
            : nonNegative('--cleanup', raw.cleanup, 'hours', MAX_CLEANUP_AGE_HOURS),
      };
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** `localhost:8080`, `127.0.0.1:8080/proxy`: an address without its `http://`. */
function withoutScheme(value: string): boolean {
  return !value.includes('://') && /^(\[[\da-f:.]+\]|[\w.-]+):\d+(\/|$)/i.test(value);
}

function checkUrl(value: string, from: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw usage(
      `${from === 'default' ? 'the URL' : from} is not a URL: '${value}'`,
      withoutScheme(value)
        ? `write the scheme: http://${value}`
        : 'e.g. --url http://localhost:8080',
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw usage(
      `${from} must be an http:// or https:// URL, got '${value}'`,
      withoutScheme(value) ? `write the scheme: http://${value}` : undefined,
    );
  }
  if (parsed.username || parsed.password) {
    parsed.username = '';
    parsed.password = '';
    throw usage(
      `${from} must not carry credentials (user:password@): got ${parsed.toString()} with them left out`,
      "give the proxy's key with PROXY_API_KEY (or --api-key <key>)",
    );
  }
  if (parsed.search || parsed.hash) {
    throw usage(
      `${from} is the proxy's base URL and takes no query or fragment, got '${value}'`,
      'e.g. --url http://localhost:8080 or, behind a path prefix, --url https://host/proxy',
    );
  }
  return value.replace(/\/+$/, '');
}

/**
 * A proxy's key is printable ASCII without spaces: a control character (a pasted newline), a
 * space or one beyond ASCII could only be refused. The message names the flag, never the key.
 */
function checkApiKey(value: string, from: string): string {
  if (value === '') {
    // A command the CLI printed has --api-key "$PROXY_API_KEY": pasted where it is not set.
    throw usage(
      `${from} is empty: give the proxy's key, or leave the flag out`,
      from === '--api-key'
        ? 'from a command pasted with --api-key "$PROXY_API_KEY": set PROXY_API_KEY to the key first'
        : undefined,
    );
  }
  if (!isSendableApiKey(value)) {
    throw usage(
      `${from} holds a character no proxy key has (a space, a control character such as a newline, or one beyond ASCII: a proxy's --api-key is printable ASCII without spaces); the key is not shown here`,
    );
  }
  return value;
}

function demoNames(value: string | true | undefined): readonly DemoName[] {
  if (value === undefined || value === true || value === 'all') return DEMO_NAMES;
  const name = DEMO_NAMES.find((demo) => demo === value);
  if (!name) throw usage(`--demo takes all, ${DEMO_NAMES.join(', ')}; got '${value}'`);
  return [name];
}

function taskId(value: string, flag: string): string {
  const trimmed = value.trim();
  // `.` and `..` are path segments, not ids: the request would go to another route.
  if (trimmed === '' || trimmed === '.' || trimmed === '..' || /[\s/?#]/.test(trimmed)) {
    throw usage(`${flag} must be a task id as --submit or --list-tasks print it, got '${value}'`);
  }
  return trimmed;
}

/** `--status` of `--watch`: one status or several, comma-separated. */
function statusList(value: string): TaskStatus[] {
  const statuses = value.split(',').map((status) => status.trim());
  for (const status of statuses) {
    if (!isTaskStatus(status)) {
      throw usage(
        `--status must be one or more of ${TASK_STATUSES.join(', ')} (comma-separated with --watch), got '${status}'`,
      );
    }
  }
  return statuses as TaskStatus[];
}

function idempotencyKey(value: string): string {
  if (
    value === '' ||
    value.length > MAX_IDEMPOTENCY_KEY_LENGTH ||
    !/^[\x20-\x7e]+$/.test(value) ||
    /["\\]/.test(value)
  ) {
    throw usage(
      `--idempotency-key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters without " or \\, got '${value}'`,
    );
  }
  return value;
}

function priority(value: string): Priority {
  const level = PRIORITIES.find((known) => known === value);
  if (!level) throw usage(`--priority must be one of ${PRIORITIES.join(', ')}, got '${value}'`);
  return level;
}

function callbackUrl(value: string): string {
  const fault = callbackUrlFault('--callback-url', value);
  if (fault !== undefined) throw usage(fault);
  return value;
}

function submitPath(value: string): string {
  const path = value.trim().replace(/^\/+/, '');
  if (path === '' || /^[a-z][a-z0-9+.-]*:/i.test(path)) {
    throw usage(`--submit takes a path on the proxy such as api/function1, got '${value}'`);
  }
  // The path the SDK sends (`report` is `api/report`), so progress lines and hints show that one.
  try {
    return toSubmitPath(path);
  } catch (error) {
    throw usage(`--submit: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * A method the client sends and the proxy can read: its HTTP parser (Node's) refuses any method
 * outside `http.METHODS` with a 400 before the proxy sees it, which the CLI can say up front.
 */
function method(value: string): string {
  const verb = value.toUpperCase();
  if (isSubmittableMethod(value) && METHODS.includes(verb)) return verb;
  throw usage(
    `--method must be an HTTP method such as GET or POST that the HTTP client sends (not CONNECT, TRACE or TRACK) and the proxy reads (one its HTTP parser knows: \`node -p http.METHODS\` lists them), got '${value}'`,
  );
}

function dataSource(value: string): DataSource {
  if (value === '@-') return { kind: 'stdin' };
  if (value.startsWith('@')) {
    if (value.length === 1) throw usage('--data @ needs a file name, e.g. --data @body.json');
    return { kind: 'file', path: value.slice(1) };
  }
  try {
    JSON.parse(value);
    return { kind: 'inline', json: value };
  } catch (error) {
    throw usage(
      `--data is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      'quote it for the shell, e.g. --data \'{"param1":"value1"}\', or use --data @file.json',
    );
  }
}

/** The longest a timer waits (`MAX_TIMER_MS`), in whole seconds: about 24.8 days. */
const TIMER_SECONDS = Math.floor(MAX_TIMER_MS / 1000);

/**
 * A number as people write one: digits, a decimal point, an exponent. `Number()` also reads hex,
 * binary and octal (`0x10` is 16), and an empty string as 0.
 */
const PLAIN_NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i;

/** A millisecond is the finest any of these takes: the SDK refuses less. */
function seconds(flag: string, value: string, max: number): number {
  const n = Number(value);
  if (!PLAIN_NUMBER.test(value) || !Number.isFinite(n) || n < 0.001 || n > max) {
    throw usage(`${flag} must be a number of seconds from 0.001 to ${max}, got '${value}'`);
  }
  return n;
}

function wholeAtLeastOne(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw usage(`${flag} must be a whole number, 1 or more, got '${value}'`);
  }
  return n;
}

/** The proxy's own bounds (the wire contract's), checked here so a bad value is a usage error. */
function nonNegative(flag: string, value: string, unit: string, max: number): number {
  const n = Number(value);
  if (!PLAIN_NUMBER.test(value) || !Number.isFinite(n) || n < 0 || n > max) {
    throw usage(`${flag} must be a number of ${unit} from 0 to ${max}, got '${value}'`);
  }
  return n;
}

function integer(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw usage(`${flag} must be a whole number from ${min} to ${max}, got '${value}'`);
  }
  return n;
}
