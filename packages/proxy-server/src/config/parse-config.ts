import { isAbsolute, join, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { flagGivenAsValue, flagsMeant } from 'proxy-client/wire';
import type { SqliteSynchronous } from '../engine/sqlite/sqlite-repository.js';
import { VERSION } from '../version.js';
import {
  ConfigError,
  type DeliveryConfig,
  type ProxyConfig,
  type StoreChoice,
  type StoreConfig,
  type TargetConfig,
} from './config.js';
import { count, grouped } from './counts.js';
import { misspeltEnvWarnings } from './misspelt-env.js';
import { OPTIONS, type OptionSpec } from './options.js';
import { redactUrlSecrets } from './redact-url.js';
import { wideCallbackOrigins } from './wide-callback-origins.js';

/** What the command line asks for: run with a config, or print help/version and stop. */
export type ParsedCommandLine =
  | {
      kind: 'run';
      config: ProxyConfig;
      /** What the user should hear about the settings they chose; one line each. */
      warnings: string[];
    }
  | { kind: 'print'; text: string };

export type Environment = Readonly<Record<string, string | undefined>>;

const HELP_FOOTER = `
Every flag has the environment twin shown; a flag wins over its environment variable, which wins
over the default. Effective upstream concurrency is min(--num-workers, --max-concurrent): the
proxy warns at start when you set either and the two differ.`;

/**
 * Turns the user's arguments (without `node` and the script) and an environment into a validated
 * config. Throws `ConfigError` with a one-line message naming the flag for anything unusable.
 */
export function parseConfig(argv: readonly string[], env: Environment): ParsedCommandLine {
  const program = new Command('proxy-server');
  let printed = '';
  program
    .description('Async queueing proxy: answers /api/* at once with a task id, forwards later.')
    .version(VERSION, '-V, --version')
    .helpOption('-h, --help', 'show this help')
    .addHelpText('after', HELP_FOOTER)
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => {
        printed += text;
      },
      writeErr: () => {},
      outputError: () => {},
    });
  const commanderOptions = new Map<OptionSpec<unknown>, Option>();
  for (const spec of Object.values(OPTIONS) as OptionSpec<unknown>[]) {
    const option = new Option(`--${spec.name} ${spec.arg}`.trim(), spec.help).env(spec.env);
    // Shown in --help only: precedence and defaults are applied below, from OPTIONS.
    if (spec.defaultText !== undefined) option.default(spec.default, spec.defaultText);
    program.addOption(option);
    commanderOptions.set(spec, option);
  }

  const swallowed = flagTakenAsValue(argv);
  if (swallowed) throw new ConfigError(swallowed);
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') {
      return { kind: 'print', text: printed };
    }
    if (error.code === 'commander.excessArguments')
      throw new ConfigError(strayArgument(program.args));
    const message = oneLine(error.message.replace(/^error: /, '')).trim();
    const flag = error.code === 'commander.unknownOption' ? unknownFlagOf(message) : undefined;
    const switchWithValue = flag !== undefined && valuedSwitch(flag);
    if (switchWithValue) throw new ConfigError(switchWithValue);
    throw new ConfigError(usageMessage(message, flag));
  }

  const keyOf = <T>(spec: OptionSpec<T>): string =>
    commanderOptions.get(spec as OptionSpec<unknown>)?.attributeName() ?? spec.name;
  const fromCli = <T>(spec: OptionSpec<T>): boolean =>
    program.getOptionValueSource(keyOf(spec)) === 'cli';
  const fromEnv = <T>(spec: OptionSpec<T>): string | undefined => nonEmpty(env[spec.env]);
  const isSet = (spec: OptionSpec<unknown>): boolean =>
    fromCli(spec) || fromEnv(spec) !== undefined;
  /** What an error calls the option: the flag, or the environment variable that set it. */
  const labelOf = <T>(spec: OptionSpec<T>): string =>
    fromCli(spec) || fromEnv(spec) === undefined
      ? `--${spec.name}`
      : `${spec.env} (--${spec.name})`;
  // Commander reads process.env itself; only a value typed on the command line is taken from
  // it, so that the `env` argument alone decides the rest and parsing stays a pure function.
  const rawOf = <T>(spec: OptionSpec<T>): string | undefined =>
    fromCli(spec) ? String(program.getOptionValue(keyOf(spec))) : fromEnv(spec);
  const read = <T>(spec: OptionSpec<T>): T => {
    const raw = rawOf(spec);
    return raw === undefined ? spec.default : parseValue(spec, raw, labelOf(spec));
  };
  /**
   * A whole number as the user typed it, else the one in effect. A message quotes and counts
   * with this, not the number read: past 2^53 that is 2^53 - 1, which the user never typed.
   */
  const typedWhole = (spec: OptionSpec<number | null>, inEffect: number): bigint =>
    BigInt(rawOf(spec) ?? inEffect);

  const targetUrl = read(OPTIONS.targetUrl);
  const targetHost = read(OPTIONS.targetHost);
  const targetPort = read(OPTIONS.targetPort);
  const storeChoice = {
    kind: read(OPTIONS.store),
    dataDir: read(OPTIONS.dataDir),
    synchronous: read(OPTIONS.sqliteSynchronous),
    redisPrefix: read(OPTIONS.redisPrefix),
  };
  const chosen: Omit<ProxyConfig, 'target' | 'store'> = {
    listenHost: read(OPTIONS.listenHost),
    listenPort: read(OPTIONS.listenPort),
    maxConcurrent: read(OPTIONS.maxConcurrent),
    maxQueueSize: read(OPTIONS.maxQueueSize),
    numWorkers: read(OPTIONS.numWorkers),
    longTaskThresholdMs: read(OPTIONS.longTaskThreshold),
    upstreamTimeoutMs: read(OPTIONS.upstreamTimeout),
    bodyLimitBytes: read(OPTIONS.bodyLimit),
    requestTimeoutMs: read(OPTIONS.requestTimeout),
    maxConnections: read(OPTIONS.maxConnections),
    maxWaitSeconds: read(OPTIONS.maxWait),
    resultSizeLimitBytes: read(OPTIONS.resultSizeLimit),
    retentionMs: read(OPTIONS.retention),
    maxTasks: null,
    apiKey: read(OPTIONS.apiKey),
    corsOrigins: read(OPTIONS.corsOrigin),
    trustProxy: read(OPTIONS.trustProxy),
    logLevel: read(OPTIONS.logLevel),
    logFormat: read(OPTIONS.logFormat),
    publicMetrics: read(OPTIONS.publicMetrics),
    metricsInstance: read(OPTIONS.metricsInstance),
    publicDocs: read(OPTIONS.publicDocs),
    requeueInterrupted: read(OPTIONS.requeueInterrupted),
    maxRequeues: read(OPTIONS.maxRequeues),
    delivery: deliveryOf(read, (spec) => `${labelOf(spec)} ${rawOf(spec)}`),
    shutdownGraceMs: read(OPTIONS.shutdownGrace),
  };
  // Last, so that a bad value anywhere is reported before a missing target or home.
  const target = resolveTarget(targetUrl, targetHost, targetPort);
  const config = { ...chosen, store: storeOf(storeChoice, env, labelOf(OPTIONS.dataDir)) };
  config.maxTasks = maxTasksFor(read(OPTIONS.maxTasks), config.store);
  const warnings: string[] = [];
  /** A setting as its user gave it: the flag and its value, or the environment variable's. */
  const given = <T>(spec: OptionSpec<T>, value: string | bigint): string =>
    !fromCli(spec) && fromEnv(spec) !== undefined
      ? `${spec.env}=${value}`
      : `--${spec.name} ${value}`;
  const numWorkers = typedWhole(OPTIONS.numWorkers, config.numWorkers);
  const maxConcurrent = typedWhole(OPTIONS.maxConcurrent, config.maxConcurrent);
  // biome-ignore lint/complexity/useMathMinMax: Math.min takes no bigint
  const inFlight = numWorkers < maxConcurrent ? numWorkers : maxConcurrent;
  if (numWorkers !== maxConcurrent && (isSet(OPTIONS.numWorkers) || isSet(OPTIONS.maxConcurrent))) {
    warnings.push(
      `${given(OPTIONS.numWorkers, numWorkers)} and ${given(OPTIONS.maxConcurrent, maxConcurrent)} differ: at most ` +
        `${count(inFlight, 'upstream call')} will be in flight`,
    );
  }
  // Finished tasks make room; unfinished ones cannot, so the queue is cut short below this.
  if (config.maxTasks !== null) {
    const maxTasks = typedWhole(OPTIONS.maxTasks, config.maxTasks);
    const maxQueueSize = typedWhole(OPTIONS.maxQueueSize, config.maxQueueSize);
    // Named, and exact past 2^53: two long numbers that look alike are told apart by it.
    const short = maxQueueSize + inFlight - maxTasks;
    if (short > 0n) {
      warnings.push(
        `${given(OPTIONS.maxTasks, maxTasks)} is ${grouped(short)} short of ${given(OPTIONS.maxQueueSize, maxQueueSize)} ` +
          `plus ${count(inFlight, 'call')} in flight: the queue never fills; a submission gets 503 queue_full ` +
          `once ${count(maxTasks, 'task')} ${maxTasks === 1n ? 'is' : 'are'} unfinished`,
      );
    }
  }
  for (const spec of ignoredBy(config.store)) {
    // A switch turned off in the environment asks for nothing the store could ignore.
    if (isSet(spec) && read(spec) !== false)
      warnings.push(`--${spec.name} does nothing with ${storeName(config.store)}`);
  }
  // With --store memory the flag is named among the store's ignored ones already.
  if (!config.requeueInterrupted && config.store.kind !== 'memory' && isSet(OPTIONS.maxRequeues)) {
    warnings.push(
      '--max-requeues does nothing without --requeue-interrupted: a task cut off fails interrupted',
    );
  }
  if (config.delivery.callbacks === null) {
    for (const spec of [OPTIONS.webhookSecret, OPTIONS.callbackMaxAttempts]) {
      if (isSet(spec))
        warnings.push(`--${spec.name} does nothing without --callback-allow: callbacks are off`);
    }
  }
  for (const { entry, domain } of wideCallbackOrigins(config.delivery.callbacks?.allow ?? [])) {
    warnings.push(
      `${given(OPTIONS.callbackAllow, entry)} lets callbacks go to every host under the top-level domain ${domain}, ` +
        `where anyone may register a name: list your own domain instead, as in ${entry.replace('*.', '*.hooks.example.')}`,
    );
  }
  if (config.delivery.retryOn === null) {
    for (const spec of [OPTIONS.maxAttempts, OPTIONS.retryMinDelay, OPTIONS.retryMaxDelay]) {
      if (isSet(spec))
        warnings.push(`--${spec.name} does nothing without --retry-on: no call is retried`);
    }
  }
  // The key is each caller's own only when a gateway in front checks many: the proxy checks one.
  if (config.delivery.fairKey?.kind === 'api-key' && config.apiKey !== null) {
    warnings.push(
      '--fair-key api-key does nothing with --api-key: every caller sends that one key, so all are one tenant',
    );
  }
  warnings.push(...misspeltSettingWarnings(env));
  return { kind: 'run', config: { target, ...config }, warnings };
}

/**
 * The `PROXY_` variables that look like a setting misspelt: said with a refusal of the settings
 * too, as the variable the user meant is often what the refusal finds missing.
 */
export function misspeltSettingWarnings(env: Environment): string[] {
  const settings = (Object.values(OPTIONS) as OptionSpec<unknown>[]).map((spec) => spec.env);
  return misspeltEnvWarnings(env, settings);
}

/** The store flags a store does not read: set anyway (an env left over, say), they are named. */
function ignoredBy(store: StoreConfig): OptionSpec<unknown>[] {
  const { dataDir, sqliteSynchronous, redisPrefix, requeueInterrupted, maxRequeues } = OPTIONS;
  if (store.kind === 'memory') {
    return [dataDir, sqliteSynchronous, redisPrefix, requeueInterrupted, maxRequeues];
  }
  if (store.kind === 'sqlite') return [redisPrefix];
  return [dataDir, sqliteSynchronous];
}

function storeName(store: StoreConfig): string {
  return store.kind === 'redis' ? '--store redis://...' : `--store ${store.kind}`;
}

function parseValue<T>(spec: OptionSpec<T>, raw: string, label: string): T {
  const value = spec.parser.parse(raw);
  if (value === undefined) {
    const item = spec.parser.refusedItem?.(raw);
    const whole = `'${redactUrlSecrets(raw)}'`;
    const got = spec.secret
      ? `a value of ${[...raw].length} characters (not shown)`
      : item === undefined || item === raw.trim()
        ? whole
        : `'${redactUrlSecrets(item)}' (in ${whole})`;
    const hint = spec.parser.refusalHint?.(raw);
    throw new ConfigError(
      `${label} must be ${spec.parser.expected}, got ${got}${hint === undefined ? '' : `: ${hint}`}`,
    );
  }
  return value;
}

/**
 * The delivery flags, checked against each other. `given` is an option as the user set it: its
 * flag or environment variable, and the value typed.
 */
function deliveryOf(
  read: <T>(spec: OptionSpec<T>) => T,
  given: <T>(spec: OptionSpec<T>) => string,
): DeliveryConfig {
  const retryMinDelayMs = read(OPTIONS.retryMinDelay);
  const retryMaxDelayMs = read(OPTIONS.retryMaxDelay);
  if (retryMaxDelayMs < retryMinDelayMs) {
    throw new ConfigError(
      `--retry-max-delay (${retryMaxDelayMs / 1000} s) must not be shorter than --retry-min-delay (${retryMinDelayMs / 1000} s)`,
    );
  }
  const fairKey = read(OPTIONS.fairKey);
  const tenantMaxInFlight = read(OPTIONS.tenantMaxInFlight);
  const tenantMaxQueued = read(OPTIONS.tenantMaxQueued);
  if (fairKey === null) {
    const caps = [OPTIONS.tenantMaxInFlight, OPTIONS.tenantMaxQueued].filter(
      (spec) => read(spec) !== null,
    );
    if (caps.length > 0) {
      const named = caps.map((spec) => given(spec)).join(' and ');
      throw new ConfigError(
        `${named}: a cap per tenant needs --fair-key (${OPTIONS.fairKey.env}), which says what a tenant is`,
      );
    }
  }
  const maxRps = read(OPTIONS.maxRps);
  const burst = read(OPTIONS.maxRpsBurst);
  if (maxRps === null && burst !== null) throw new ConfigError('--max-rps-burst needs --max-rps');
  const allow = read(OPTIONS.callbackAllow);
  const secret = read(OPTIONS.webhookSecret);
  // Read with callbacks off too: a bad value is refused like any other, not only warned unused.
  const callbackMaxAttempts = read(OPTIONS.callbackMaxAttempts);
  if (allow !== null && secret === null) {
    throw new ConfigError(
      '--callback-allow needs --webhook-secret (whsec_ and base64 of 24+ random bytes): callbacks are always signed',
    );
  }
  return {
    retryOn: read(OPTIONS.retryOn),
    maxAttempts: read(OPTIONS.maxAttempts),
    retryMinDelayMs,
    retryMaxDelayMs,
    maxQueueTimeMs: read(OPTIONS.maxQueueTime),
    fairKey,
    tenantMaxInFlight,
    tenantMaxQueued,
    rateLimit: maxRps === null ? null : { perSecond: maxRps, burst: burst ?? Math.ceil(maxRps) },
    callbacks:
      allow === null || secret === null
        ? null
        : { allow, secret, maxAttempts: callbackMaxAttempts },
  };
}

/**
 * Bound memory harder than disk: about 250 MiB of small tasks in memory, a few GiB on disk.
 * Redis holds its tasks in memory too, the server's, shared by every instance.
 */
const DEFAULT_MAX_TASKS = { memory: 100_000, sqlite: 1_000_000, redis: 100_000 } as const;

function maxTasksFor(given: number | null, store: StoreConfig): number | null {
  if (given === null) return DEFAULT_MAX_TASKS[store.kind];
  return given === 0 ? null : given;
}

function storeOf(
  {
    kind,
    dataDir,
    synchronous,
    redisPrefix,
  }: {
    kind: StoreChoice;
    dataDir: string | null;
    synchronous: SqliteSynchronous;
    redisPrefix: string;
  },
  env: Environment,
  dataDirLabel: string,
): StoreConfig {
  if (typeof kind === 'object') return { kind: 'redis', url: kind.redisUrl, prefix: redisPrefix };
  if (kind === 'memory') return { kind };
  return {
    kind,
    dataDir: dataDir === null ? defaultDataDir(env) : resolveDirectory(dataDir, env, dataDirLabel),
    synchronous,
  };
}

/**
 * Absolute against the working directory; a leading `~` is the home directory, as in a shell,
 * which leaves it alone in `--data-dir=~/x` and in an environment file.
 */
function resolveDirectory(path: string, env: Environment, label: string): string {
  if (path !== '~' && !path.startsWith('~/')) return resolve(path);
  // The same HOME as the default data dir's; without one, `~/x` would become `/x`.
  if (!env.HOME) {
    throw new ConfigError(
      `${label} ${path}: a leading ~ is the home directory, and HOME is not set; give the path in full`,
    );
  }
  return join(env.HOME, path.slice(1));
}

/**
 * Where state belongs by the XDG base directory spec: `$XDG_STATE_HOME`, which the spec ignores
 * when relative, else `~/.local/state`. With neither (a system service without `User=` has no
 * HOME) it is a ConfigError, not the working directory, where tasks would land unseen (`/` for
 * a service).
 */
export function defaultDataDir(env: Environment): string {
  const stateHome = env.XDG_STATE_HOME;
  if (stateHome && isAbsolute(stateHome)) return join(stateHome, 'proxy-server');
  if (env.HOME && isAbsolute(env.HOME)) return join(env.HOME, '.local', 'state', 'proxy-server');
  throw new ConfigError(
    `no data dir: the default is under $XDG_STATE_HOME or ~/.local/state, and ${stateHome ? `XDG_STATE_HOME (${stateHome}) is not an absolute path and ` : ''}HOME is not set${env.HOME ? ' to an absolute path' : ''}; give one with --data-dir (or PROXY_DATA_DIR), or keep tasks in memory with --store memory`,
  );
}

function resolveTarget(url: TargetConfig | null, host: string | null, port: number): TargetConfig {
  if (url) return url;
  if (host === null) {
    throw new ConfigError(
      `--target-host is required (or --target-url; env ${OPTIONS.targetHost.env})`,
    );
  }
  const origin = `http://${host}:${port}`;
  return { origin, basePath: '', url: origin };
}

/** Commander's suggestion, last in its message and the one line break it writes itself. */
const SUGGESTION = /\n(\(Did you mean [^\n]*\?\))$/;

/**
 * Commander's lines joined into one. Any break but the one before its suggestion is the user's
 * own, in a flag's name (`--foo<newline>bar`, `--it's<newline>x`), whatever quotes that holds:
 * kept, for the one who prints the message to show it (as `\x0a`).
 */
function oneLine(text: string): string {
  return text.replace(SUGGESTION, ' $1');
}

/**
 * The flag in commander's `unknown option '<flag>'`, whole: from the first quote to the last
 * before any suggestion, since the flag's name may hold quotes of its own (`--it's`).
 */
function unknownFlagOf(message: string): string | undefined {
  return /^unknown option '(.*)'(?: \(Did you mean [^\n]*\?\))?$/s.exec(message)?.[1];
}

/**
 * Commander's words, on one line. An unknown flag written short of its full name (`--port`) is
 * too far from any for commander's suggestion, which goes by spelling: the flags that have its
 * words are named instead, and first.
 */
function usageMessage(message: string, unknownFlag: string | undefined): string {
  const meant =
    unknownFlag &&
    flagsMeant(
      unknownFlag,
      Object.values(OPTIONS).map((spec) => `--${spec.name}`),
    );
  return meant ? `unknown option '${unknownFlag}' (Did you mean ${meant}?)` : message;
}

/**
 * What to say of words no flag takes: a switch given a value (`--public-metrics true`), or a
 * target typed bare (`proxy-server 192.168.1.100`), as the old service's start script had it.
 */
function strayArgument(args: readonly string[]): string {
  const [first = ''] = args;
  const said = `unexpected argument '${first}': every setting is a flag (see --help), and a switch such as --public-metrics takes no value`;
  // An address or a dotted name: most likely the target, as the old service took it.
  const hostLike = /^[\d.]+$|^[\w-]+(\.[\w-]+)+$|:/.test(first);
  return hostLike
    ? `${said}; give a target as --target-host ${first} or --target-url http://host:port`
    : said;
}

/** A flag given the next flag as its value (see `flagGivenAsValue`), named. */
function flagTakenAsValue(argv: readonly string[]): string | null {
  const specs = Object.values(OPTIONS) as OptionSpec<unknown>[];
  const valued = new Set(specs.filter((spec) => spec.arg !== '').map((spec) => `--${spec.name}`));
  const flags = new Set([...specs.map((spec) => `--${spec.name}`), '--help', '--version']);
  const given = flagGivenAsValue(argv, valued, flags);
  if (given === undefined) return null;
  const { flag, next } = given;
  return `${flag} needs a value, and the next word is the flag ${next}: give it one (${flag} <value>; in a script, an empty variable leaves it none)`;
}

/**
 * A switch written with a value (`--requeue-interrupted=false`, as its environment twin takes
 * one): commander calls it an unknown option, though the option exists. Say what it takes.
 */
function valuedSwitch(unknownFlag: string): string | null {
  if (!unknownFlag.includes('=')) return null;
  const [name] = unknownFlag.split('=');
  const spec = (Object.values(OPTIONS) as OptionSpec<unknown>[]).find(
    (each) => `--${each.name}` === name && each.arg === '',
  );
  if (!spec) return null;
  return `--${spec.name} is a switch and takes no value, got '${unknownFlag}': give the flag alone to turn it on, leave it out for off (${spec.env} takes true or false)`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}
