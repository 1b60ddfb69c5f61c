#!/usr/bin/env node
import type { AddressInfo } from 'node:net';
import { systemClock } from './clock.js';
import { isConfigError, type ProxyConfig } from './config/config.js';
import { openFilesLimit, openFilesWarning } from './config/open-files-limit.js';
import { defaultDataDir, misspeltSettingWarnings, parseConfig } from './config/parse-config.js';
import { displayUrl } from './engine/redis/connections.js';
import { isDataDirError } from './engine/sqlite/data-dir.js';
import { isStoreRefusedError } from './engine/store-refused.js';
import { isStoreUnavailableError } from './engine/store-unavailable.js';
import type { RecoveryReport } from './engine/task-backend.js';
import { pastMaxRequeuesWarning } from './engine/task-record.js';
import { logStreamFor } from './logging/log-stream.js';
import { cutOffLine, graceLine } from './proxy/stop-lines.js';
import { stopSummary } from './proxy/stop-tally.js';
import { buildServer, shutdownServer } from './server.js';

/** Past the grace period, closing may take this long before the process gives up waiting. */
const SHUTDOWN_SLACK_MS = 10_000;

/**
 * The signals that stop the proxy with grace. SIGHUP too: a terminal that closes sends it, and
 * Node's default for it would end the process at once, cutting every call off.
 */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** Given again during the stop, these stop at once; a second SIGHUP (tmux sends two) does not. */
const NOW_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Parses, starts, serves until a stop signal, shuts down; resolves with the exit code. */
async function main(): Promise<number> {
  // A terminal that closed (EIO) or a reader that went away (EPIPE) fails every write to it,
  // and an unheard stream error would end the process: the proxy serves on, its lines lost.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  let parsed: ReturnType<typeof parseConfig>;
  try {
    parsed = parseConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (!isConfigError(error)) throw error;
    for (const warning of misspeltSettingWarnings(process.env)) {
      say(process.stderr, `warning: ${warning}`);
    }
    say(process.stderr, error.message);
    return 2;
  }
  if (parsed.kind === 'print') {
    process.stdout.write(parsed.text);
    return 0;
  }

  const { config } = parsed;
  const openFiles = openFilesWarning(config, openFilesLimit());
  for (const warning of openFiles ? [...parsed.warnings, openFiles] : parsed.warnings)
    say(process.stderr, `warning: ${warning}`);
  const logStream = await logStreamFor(config.logFormat, process.stdout, process.env);
  const app = buildServer(config, logStream ? { logStream } : {});
  try {
    await app.listen({ host: config.listenHost, port: config.listenPort });
  } catch (error) {
    if (isDataDirError(error) || isStoreRefusedError(error)) {
      const hint = isDataDirError(error) && error.dirUnusable ? unusableDataDirHint(config) : '';
      say(process.stderr, `${error.message}${hint}`);
      await app.close();
      return 2;
    }
    const reason = error instanceof Error ? error.message : String(error);
    // A store that cannot be reached (Redis down) fails the start too, but it is no port problem.
    say(
      process.stderr,
      isListenError(error)
        ? `cannot listen on ${config.listenHost}:${config.listenPort}: ${reason}${listenHint(error)}`
        : isStoreUnavailableError(error)
          ? `cannot open the task store: ${reason}`
          : `cannot start: ${reason}`,
    );
    await app.close();
    return 1;
  }
  say(process.stdout, describeStore(app.proxy.backend.kind, config, app.proxy.recovery));
  const spent = app.proxy.recovery?.pastMaxRequeues ?? [];
  if (spent.length > 0) {
    say(process.stderr, `warning: ${pastMaxRequeuesWarning(spent, config.maxRequeues)}`);
  }
  // Before the line that says it listens: a supervisor may signal as soon as it reads it.
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    // `on`, not `once`: left in place, they keep a later SIGHUP from ending the process.
    for (const name of STOP_SIGNALS) process.on(name, resolve);
  });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  process.stdout.write(
    `proxy-server listening on http://${host}:${address.port} (target ${config.target.url})\n`,
  );

  const signal = await stopSignal;
  // Said at every log level, to people (stderr, beside the warnings: stdout may be JSON logs):
  // without it, a Ctrl-C that waits out the grace looks like a hang.
  const now = signal === 'SIGHUP' ? 'SIGINT or SIGTERM' : `${signal} again`;
  // A retry due after the grace is given up at once: the grace is no wait for it.
  const workWithin = (ms: number) => ({
    callsHere: app.proxy.callsHere,
    deliveriesHere: app.proxy.deliveriesHere,
    retriesHere: app.proxy.retriesWithin(ms),
  });
  const grace = config.shutdownGraceMs;
  say(
    process.stderr,
    `${signal}: stopping; ${graceLine(workWithin(grace), grace)}, ${now} stops at once`,
  );
  systemClock
    .setTimeout(() => {
      say(process.stderr, 'shutdown did not finish in time, exiting');
      process.exit(1);
    }, config.shutdownGraceMs + SHUTDOWN_SLACK_MS)
    .unref?.();
  // A second signal means "now": exit without waiting for the calls in flight.
  for (const name of NOW_SIGNALS) {
    process.once(name, () => {
      say(
        process.stderr,
        `${name} during the stop: ${cutOffLine(workWithin(Number.POSITIVE_INFINITY))}`,
      );
      process.exit(1);
    });
  }
  const { unsavedOutcomes, calls } = await shutdownServer(app, config.shutdownGraceMs, signal);
  say(process.stderr, stopSummary(calls, unsavedOutcomes.length));
  // The store's error line names them; the status lets a supervisor see it too.
  return unsavedOutcomes.length > 0 ? 1 : 0;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * One line for people. A control character in a value the user gave (a newline in --data-dir's
 * path) is shown as `\xNN`: it would split the line, or act on the terminal.
 */
function say(stream: NodeJS.WriteStream, text: string): void {
  const shown = text.replace(
    CONTROL,
    (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  stream.write(`proxy-server: ${shown}\n`);
}

/**
 * How to get past a data dir that cannot be made or written: choose another. One the user never
 * chose is news to them (a HOME they cannot write), so that one is named the default.
 */
function unusableDataDirHint(config: ProxyConfig): string {
  if (config.store.kind !== 'sqlite') return '';
  let isDefault: boolean;
  try {
    isDefault = config.store.dataDir === defaultDataDir(process.env);
  } catch {
    isDefault = false;
  }
  return isDefault
    ? '; it is the default data dir: choose another with --data-dir (or PROXY_DATA_DIR)'
    : '; choose a dir this user can write with --data-dir (or PROXY_DATA_DIR)';
}

/** An error of the socket itself: the address is taken, not ours, or does not resolve. */
function isListenError(error: unknown): boolean {
  const { syscall } = error as { syscall?: unknown };
  return syscall === 'listen' || syscall === 'bind' || syscall === 'getaddrinfo';
}

/**
 * Node's own words for a port in use say what went wrong, not what to do (a data dir in use
 * says both); the advice is troubleshooting.md's.
 */
function listenHint(error: unknown): string {
  return (error as { code?: unknown }).code === 'EADDRINUSE'
    ? '; another program (perhaps another proxy-server) listens there: stop it, or choose another --listen-port (or PROXY_LISTEN_PORT)'
    : '';
}

function describeStore(kind: string, config: ProxyConfig, recovery: RecoveryReport | null): string {
  if (config.store.kind === 'memory' || kind === 'memory') {
    return 'tasks kept in memory (--store memory): they are lost when the process ends';
  }
  const { store } = config;
  const where =
    store.kind === 'sqlite'
      ? ` under ${store.dataDir}`
      : store.kind === 'redis'
        ? ` at ${displayUrl(store.url)}`
        : '';
  if (!recovery) return `tasks kept in ${kind}${where}`;
  // The requeued wait too: pending counts them, as /stats does from the first read.
  const waiting = recovery.pending + recovery.requeued;
  // A queue lowered between runs, or a restored backup: every submission is refused a while.
  const overfull =
    waiting > config.maxQueueSize
      ? `; ${waiting} waiting, more than --max-queue-size ${config.maxQueueSize}: submissions get 503 queue_full until fewer wait`
      : '';
  // Said once, at the start that made it: a build before this one refuses the file from now on.
  const upgrade = recovery.schemaUpgrade;
  const upgraded = upgrade
    ? `; its schema upgraded from version ${upgrade.from} to ${upgrade.to} (builds that know only version ${upgrade.from} refuse it from now on)`
    : '';
  const leased = recovery.leased
    ? `; ${recovery.leased} still processing under a lease (other instances' calls; a dead one's are ended or requeued when their lease runs out)`
    : '';
  return (
    `tasks kept in ${kind}${where}: ${recovery.total} held, ${waiting} pending; ` +
    `left processing by the last run: ${recovery.requeued} requeued, ${recovery.interrupted} interrupted${leased}${overfull}${upgraded}`
  );
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`proxy-server: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
