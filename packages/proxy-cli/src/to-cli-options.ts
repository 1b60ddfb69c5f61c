import { isTaskStatus, TASK_STATUSES } from 'proxy-client/wire';
import { CliError } from './cli-error.js';
import { EXIT_CODES } from './exit-codes.js';
import {
  type Action,
  type CliOptions,
  type DataSource,
  DEFAULT_CLEANUP_HOURS,
  DEFAULT_URL,
  DEMO_NAMES,
  type DemoName,
} from './options.js';

/** What commander hands back: strings and booleans, unchecked. */
export interface RawOptions {
  demo?: string | true;
  stats?: true;
  taskId?: string;
  listTasks?: true;
  submit?: string;
  cleanup?: string | true;
  health?: true;
  wait?: true;
  pollInterval?: string;
  timeout?: string;
  data?: string;
  method?: string;
  status?: string;
  limit?: string;
  offset?: string;
  url?: string;
  apiKey?: string;
  json?: true;
  color: boolean;
}

const ACTION_FLAGS = {
  demo: '--demo',
  stats: '--stats',
  taskId: '--task-id',
  listTasks: '--list-tasks',
  submit: '--submit',
  cleanup: '--cleanup',
  health: '--health',
} as const satisfies Partial<Record<keyof RawOptions, string>>;

/** Flags that only mean something next to some actions, and which. */
const DEPENDENT_FLAGS: ReadonlyArray<{
  key: keyof RawOptions;
  flag: string;
  with: ReadonlyArray<keyof typeof ACTION_FLAGS>;
}> = [
  { key: 'wait', flag: '--wait', with: ['taskId', 'submit'] },
  { key: 'pollInterval', flag: '--poll-interval', with: ['taskId', 'submit', 'demo'] },
  { key: 'timeout', flag: '--timeout', with: ['taskId', 'submit', 'demo'] },
  { key: 'data', flag: '--data', with: ['submit'] },
  { key: 'method', flag: '--method', with: ['submit'] },
  { key: 'status', flag: '--status', with: ['listTasks'] },
  { key: 'limit', flag: '--limit', with: ['listTasks'] },
  { key: 'offset', flag: '--offset', with: ['listTasks'] },
];

const usage = (message: string, hint = 'see proxy-cli --help') =>
  new CliError(EXIT_CODES.usage, message, hint);

const list = (flags: readonly string[]) =>
  flags.length === 1 ? flags[0] : `${flags.slice(0, -1).join(', ')} or ${flags.at(-1)}`;

export function toCliOptions(
  raw: RawOptions,
  env: Readonly<Record<string, string | undefined>>,
): CliOptions {
  const chosen = (Object.keys(ACTION_FLAGS) as Array<keyof typeof ACTION_FLAGS>).filter(
    (key) => raw[key] !== undefined,
  );
  const [only] = chosen;
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

  // Without --wait a task or submit call never waits, so these would silently do nothing.
  if ((only === 'taskId' || only === 'submit') && raw.wait === undefined) {
    const idle =
      raw.timeout !== undefined
        ? '--timeout'
        : raw.pollInterval !== undefined
          ? '--poll-interval'
          : undefined;
    if (idle) throw usage(`${idle} only matters with --wait`);
  }

  const envUrl = nonEmpty(env['PROXY_URL']);
  const url = checkUrl(
    raw.url ?? envUrl ?? DEFAULT_URL,
    raw.url ? '--url' : envUrl ? 'PROXY_URL' : 'default',
  );
  const envKey = nonEmpty(env['PROXY_API_KEY']);
  const apiKey = raw.apiKey ?? envKey;

  return {
    action: toAction(only, raw),
    url,
    urlSource: raw.url ? 'flag' : envUrl ? 'env' : 'default',
    ...(apiKey !== undefined && { apiKey, apiKeySource: raw.apiKey ? 'flag' : 'env' }),
    json: raw.json === true,
    color: raw.color,
    ...(raw.pollInterval !== undefined && {
      pollIntervalMs: seconds('--poll-interval', raw.pollInterval) * 1000,
    }),
    ...(raw.timeout !== undefined && { timeoutMs: seconds('--timeout', raw.timeout) * 1000 }),
  };
}

function toAction(kind: keyof typeof ACTION_FLAGS, raw: RawOptions): Action {
  switch (kind) {
    case 'demo':
      return { kind: 'demo', demos: demoNames(raw.demo) };
    case 'stats':
      return { kind: 'stats' };
    case 'health':
      return { kind: 'health' };
    case 'taskId':
      return { kind: 'task', taskId: taskId(raw.taskId ?? ''), wait: raw.wait === true };
    case 'listTasks': {
      const status = raw.status;
      if (status !== undefined && !isTaskStatus(status)) {
        throw usage(`--status must be one of ${TASK_STATUSES.join(', ')}, got '${status}'`);
      }
      return {
        kind: 'list',
        ...(status !== undefined && { status }),
        ...(raw.limit !== undefined && { limit: integer('--limit', raw.limit, 1) }),
        ...(raw.offset !== undefined && { offset: integer('--offset', raw.offset, 0) }),
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
      };
    }
    case 'cleanup':
      return {
        kind: 'cleanup',
        maxAgeHours:
          raw.cleanup === true || raw.cleanup === undefined
            ? DEFAULT_CLEANUP_HOURS
            : nonNegative('--cleanup', raw.cleanup, 'hours'),
      };
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function checkUrl(value: string, from: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw usage(
      `${from === 'default' ? 'the URL' : from} is not a URL: '${value}'`,
      'e.g. --url http://localhost:8080',
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw usage(`${from} must be an http:// or https:// URL, got '${value}'`);
  }
  return value.replace(/\/+$/, '');
}

function demoNames(value: string | true | undefined): readonly DemoName[] {
  if (value === undefined || value === true || value === 'all') return DEMO_NAMES;
  const name = DEMO_NAMES.find((demo) => demo === value);
  if (!name) throw usage(`--demo takes all, ${DEMO_NAMES.join(', ')}; got '${value}'`);
  return [name];
}

function taskId(value: string): string {
  const trimmed = value.trim();
  if (trimmed === '' || /[\s/?#]/.test(trimmed)) {
    throw usage(`--task-id must be a task id as --submit or --list-tasks print it, got '${value}'`);
  }
  return trimmed;
}

function submitPath(value: string): string {
  const path = value.trim().replace(/^\/+/, '');
  if (path === '' || /^[a-z][a-z0-9+.-]*:/i.test(path)) {
    throw usage(`--submit takes a path on the proxy such as api/function1, got '${value}'`);
  }
  return path;
}

function method(value: string): string {
  // RFC 9110 token characters; the proxy forwards the method as given.
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value)) {
    throw usage(`--method must be an HTTP method such as GET or POST, got '${value}'`);
  }
  return value.toUpperCase();
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

function seconds(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw usage(`${flag} must be a positive number of seconds, got '${value}'`);
  }
  return n;
}

function nonNegative(flag: string, value: string, unit: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw usage(`${flag} must be a number of ${unit} (0 or more), got '${value}'`);
  }
  return n;
}

function integer(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw usage(`${flag} must be a whole number of at least ${min}, got '${value}'`);
  }
  return n;
}
