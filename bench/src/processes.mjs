// @ts-check
// Starts the servers a scenario measures, each as its own process so the driver's work does not
// show up in their CPU time and their CPU time does not slow the driver.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, proxyServerBin } from 'test-support';
import { haproxyConfig } from '../servers/haproxy-config.mjs';
import { oneCpuNodeFlags, onServerCpus } from './cpu-placement.mjs';

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = join(benchDir, '..');

/**
 * @typedef {object} Server
 * @property {string} name
 * @property {string} url
 * @property {number} port
 * @property {number} pid
 * @property {() => string} output what the process wrote so far (last 64 KiB)
 * @property {() => Promise<void>} stop SIGTERM, then SIGKILL after a grace period
 */

const STOP_GRACE_MS = 10_000;
const OUTPUT_KEEP = 64 * 1024;

/** @type {Set<import('node:child_process').ChildProcess>} */
const live = new Set();
// Whatever happens to the driver, no server it started outlives it.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * @param {import('node:child_process').ChildProcess} child
 * @param {number} graceMs
 */
function stopChild(child, graceMs) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    child.kill('SIGTERM');
  });
}

/** @type {import('./cpu-placement.mjs').Placement | null} */
let placement = null;

/**
 * Servers started from now on run on `next.serverCpus` (null: wherever the OS puts them).
 * @param {import('./cpu-placement.mjs').Placement | null} next
 */
export function placeServers(next) {
  placement = next;
}

/** Flags every Node server gets where it is placed (see oneCpuNodeFlags). */
const serverNodeFlags = () => oneCpuNodeFlags(placement);

/** Whether the servers started from now on share a single CPU. */
export const serversOnOneCpu = () => serverNodeFlags().length > 0;

/**
 * Spawns a command and resolves once `ready` finds the URL in its output (or, without a
 * pattern, once `probePort` accepts connections).
 * @param {{ name: string, command: string, args: string[], env?: NodeJS.ProcessEnv,
 *   ready: RegExp | { probePort: number }, startTimeoutMs?: number }} options
 * @returns {Promise<Server>}
 */
function startProcess({ name, command, args, env, ready, startTimeoutMs = 15_000 }) {
  const line = onServerCpus(placement, command, args);
  const child = spawn(line.command, line.args, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let output = '';
  const onData = (/** @type {Buffer} */ chunk) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEEP);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);

  return new Promise((resolve, reject) => {
    let settled = false;
    /** @param {string} url */
    const done = (url) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const port = Number(new URL(url).port);
      resolve({
        name,
        url,
        port,
        pid: /** @type {number} */ (child.pid),
        output: () => output,
        stop: () => stopChild(child, STOP_GRACE_MS),
      });
    };
    /** @param {Error} err */
    const fail = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new Error(`${name} did not start in ${startTimeoutMs} ms:\n${output}`)),
      startTimeoutMs,
    );
    child.once('error', fail);
    child.once('exit', (code, signal) =>
      fail(
        new Error(
          `${name} exited (code ${code}, signal ${signal}) before it was ready:\n${output}`,
        ),
      ),
    );

    if (ready instanceof RegExp) {
      const check = () => {
        const url = ready.exec(output)?.[1];
        if (url) done(url);
      };
      child.stdout?.on('data', check);
      child.stderr?.on('data', check);
    } else {
      const url = `http://127.0.0.1:${ready.probePort}`;
      const probe = () => {
        if (settled) return;
        const socket = connect(ready.probePort, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          done(url);
        });
        socket.once('error', () => setTimeout(probe, 20));
      };
      probe();
    }
  });
}

/**
 * Node flags that make a server write its CPU profile on exit, named after the server so the
 * profiles of one run can be told apart.
 * @param {string | undefined} profileDir
 * @param {string} name
 */
function profileFlags(profileDir, name) {
  if (!profileDir) return [];
  const file = `${name.replace(/[^a-z0-9]+/gi, '-')}-${Date.now()}.cpuprofile`;
  return ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${file}`];
}

/**
 * examples/slow-target, answering every request after `delayMs` unless the request says
 * otherwise.
 * @param {{ delayMs?: number }} [options]
 */
export function startTarget({ delayMs = 0 } = {}) {
  return startProcess({
    name: 'slow-target',
    command: process.execPath,
    args: [
      ...serverNodeFlags(),
      join(repoRoot, 'examples/slow-target/bin.mjs'),
      '--port',
      '0',
      '--delay-ms',
      String(delayMs),
    ],
    ready: /slow-target listening on (http:\/\/\S+)/,
  });
}

/**
 * servers/gap-target.mjs: a target that records how long each connection stays idle between
 * answering and receiving the next request (diagnosis only, see tools/turnaround.mjs).
 * @param {{ delayMs: number }} options
 */
export function startGapTarget({ delayMs }) {
  return startProcess({
    name: 'gap-target',
    command: process.execPath,
    args: [
      ...serverNodeFlags(),
      join(benchDir, 'servers/gap-target.mjs'),
      '--delay-ms',
      String(delayMs),
    ],
    ready: /gap-target listening on (http:\/\/\S+)/,
  });
}

/**
 * servers/minimal-forwarder.mjs in front of `target` (calibration only, see tools/turnaround.mjs).
 * @param {{ target: Server, maxConcurrent: number }} options
 */
export function startMinimalForwarder({ target, maxConcurrent }) {
  return startProcess({
    name: 'minimal-forwarder',
    command: process.execPath,
    args: [
      ...serverNodeFlags(),
      join(benchDir, 'servers/minimal-forwarder.mjs'),
      '--target-port',
      String(target.port),
      '--max-concurrent',
      String(maxConcurrent),
    ],
    ready: /minimal-forwarder listening on (http:\/\/\S+)/,
  });
}

/**
 * @param {{ keep?: boolean, profileDir?: string }} [options] `keep`: keep every request in
 *   memory, as a task store does
 */
export function startBareFastify({ keep = false, profileDir } = {}) {
  const name = keep ? 'bare-fastify --keep' : 'bare-fastify';
  return startProcess({
    name,
    command: process.execPath,
    args: [
      ...serverNodeFlags(),
      ...profileFlags(profileDir, name),
      join(benchDir, 'servers/bare-fastify.mjs'),
      ...(keep ? ['--keep'] : []),
    ],
    ready: /bare-fastify listening on (http:\/\/\S+)/,
  });
}

/**
 * A bare node:http server answering every GET with the bytes of `pageFile` (the floor of 5b, 5d).
 * @param {string} pageFile
 */
export function startPageServer(pageFile) {
  return startProcess({
    name: 'page-server',
    command: process.execPath,
    args: [...serverNodeFlags(), join(benchDir, 'servers/page-server.mjs'), '--page', pageFile],
    ready: /page-server listening on (http:\/\/\S+)/,
  });
}

/**
 * @typedef {object} ProxyOptions
 * @property {Server} target
 * @property {string[]} args flags beyond the target and the log level
 * @property {string} [profileDir] when set, the proxy writes a CPU profile there on exit
 * @property {number} [heapMiB] old-space limit, for the scenarios that hold a million tasks
 * @property {boolean} [parallelGc] keep V8's GC helper threads even on one CPU (for comparison)
 * @property {string[]} [nodeFlags] more flags for node itself (e.g. `--trace-gc`)
 * @property {'memory' | 'sqlite' | 'redis'} [store] where the proxy keeps tasks (default memory);
 *   SQLite gets a fresh data dir of its own, removed when the proxy stops, unless `dataDir` is
 *   given; Redis needs `redis`
 * @property {string} [dataDir] the SQLite data dir to use and keep (e.g. to time a restart)
 * @property {{ url: string, prefix: string }} [redis] the Redis server and key prefix (instances
 *   with the same prefix share one queue)
 */

/**
 * The built proxy-server (packages/proxy-server/dist/bin.js). Spawned here rather than with
 * test-support's spawnProxyServer because `--cpu-prof` is refused in NODE_OPTIONS and must be
 * given to node itself.
 * @param {ProxyOptions} options
 * @returns {Promise<Server>}
 */
export async function startProxy({
  target,
  args,
  profileDir,
  heapMiB,
  parallelGc = false,
  nodeFlags: extraNodeFlags = [],
  store = 'memory',
  dataDir,
  redis,
}) {
  const nodeFlags = [
    ...(parallelGc ? [] : serverNodeFlags()),
    ...profileFlags(profileDir, 'proxy-server'),
    ...extraNodeFlags,
  ];
  if (heapMiB) nodeFlags.push(`--max-old-space-size=${heapMiB}`);
  const ownDataDir =
    store === 'sqlite' && dataDir === undefined
      ? await mkdtemp(join(tmpdir(), 'bench-proxy-data-'))
      : undefined;
  const storeFlags =
    store === 'memory'
      ? ['--store', 'memory']
      : store === 'redis'
        ? redisFlags(redis)
        : ['--data-dir', dataDir ?? String(ownDataDir)];
  const server = await startProcess({
    name: 'proxy-server',
    command: process.execPath,
    args: [
      ...nodeFlags,
      proxyServerBin,
      '--listen-host',
      '127.0.0.1',
      '--listen-port',
      '0',
      '--target-host',
      '127.0.0.1',
      '--target-port',
      String(target.port),
      '--log-level',
      'warn',
      // Some scenarios leave calls in flight to a target that answers in an hour.
      '--shutdown-grace',
      '1',
      ...storeFlags,
      ...args,
    ],
    ready: /proxy-server listening on (http:\/\/\S+)/,
    startTimeoutMs: 60_000,
  });
  if (!ownDataDir) return server;
  return {
    ...server,
    stop: async () => {
      await server.stop();
      await rm(ownDataDir, { recursive: true, force: true });
    },
  };
}

/** @param {{ url: string, prefix: string } | undefined} redis */
function redisFlags(redis) {
  if (!redis) throw new Error("startProxy({ store: 'redis' }) needs `redis`");
  return ['--store', redis.url, '--redis-prefix', redis.prefix];
}

/** Why redis-server cannot run here, or null when it can. */
export function redisUnavailable() {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    return 'redis-server is not installed (Debian: apt-get install -y redis-server)';
  }
  return null;
}

/**
 * redis-server on a free port with its files in a temporary directory, no snapshots; with
 * `appendonly`, an append-only file forced to disk before each answer (what docs/operations.md
 * recommends). `url` is the `redis://` URL to give the proxies.
 * @param {{ appendonly?: boolean }} [options]
 * @returns {Promise<Server>}
 */
export async function startRedis({ appendonly = false } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'bench-redis-'));
  const port = await freePort();
  const server = await startProcess({
    name: 'redis-server',
    command: 'redis-server',
    args: [
      ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''],
      ...(appendonly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : []),
    ],
    ready: { probePort: port },
  });
  return {
    ...server,
    url: `redis://127.0.0.1:${port}/0`,
    stop: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs one of servers/bullmq-*.mjs on the servers' CPUs to its end: BullMQ alone on the same
 * Redis, the limit the Redis scenario compares the proxy with. Resolves with the JSON line it
 * prints last.
 * @param {string} script file name in servers/
 * @param {string[]} args
 * @returns {Promise<Record<string, number>>}
 */
export function runBullmq(script, args) {
  const line = onServerCpus(placement, process.execPath, [
    ...serverNodeFlags(),
    join(benchDir, 'servers', script),
    ...args,
  ]);
  const child = spawn(line.command, line.args, {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (/** @type {Buffer} */ chunk) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr?.on('data', (/** @type {Buffer} */ chunk) => {
    stderr += chunk.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      live.delete(child);
      if (code !== 0) reject(new Error(`${script} exited with code ${code}: ${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}'));
    });
  });
}

/** Why HAProxy cannot run here, or null when it can. */
export function haproxyUnavailable() {
  const probe = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    return 'haproxy is not installed (Debian: apt-get install -y haproxy)';
  }
  return null;
}

/**
 * HAProxy in front of `target` with `server ... maxconn <maxconn>`.
 * @param {{ target: Server, maxconn: number }} options
 * @returns {Promise<Server>}
 */
export async function startHaproxy({ target, maxconn }) {
  const dir = await mkdtemp(join(tmpdir(), 'bench-haproxy-'));
  const config = join(dir, 'haproxy.cfg');
  const listenPort = await freePort();
  await writeFile(config, haproxyConfig({ listenPort, targetPort: target.port, maxconn }));
  const server = await startProcess({
    name: 'haproxy',
    command: 'haproxy',
    args: ['-f', config, '-db'],
    ready: { probePort: listenPort },
  });
  return {
    ...server,
    stop: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
