// @ts-check
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const proxyServerBin = join(root, 'packages', 'proxy-server', 'dist', 'bin.js');
export const proxyCliBin = join(root, 'packages', 'proxy-cli', 'dist', 'bin.js');

const LISTENING = /proxy-server listening on (http:\/\/\S+)/;
/** @type {Set<import('node:child_process').ChildProcess>} */
const live = new Set();
// A test runner that dies mid-test must not leave proxies behind.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** @param {import('./index.d.mts').ProxyProcessOptions} options */
export function spawnProxyServer({ args, env = {}, startTimeoutMs = 15_000 }) {
  const defaults = [];
  if (!args.includes('--listen-host')) defaults.push('--listen-host', '127.0.0.1');
  if (!args.includes('--listen-port')) defaults.push('--listen-port', '0');
  // The default store is SQLite under the user's state dir: each test proxy gets a fresh data
  // dir of its own instead, removed when the process exits, unless its flags chose a store. A
  // data dir from the environment (a documented systemd file, say) is overridden too: a flag
  // wins over its environment twin, and a test must not write to /var/lib.
  const choseStore = ['--store', '--data-dir'].some((flag) => args.includes(flag));
  /** @type {string | undefined} */
  let ownDataDir;
  if (!choseStore) {
    ownDataDir = mkdtempSync(join(tmpdir(), 'proxy-data-'));
    defaults.push('--data-dir', ownDataDir);
  }
  const child = spawn(process.execPath, [proxyServerBin, ...defaults, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let output = '';
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      if (ownDataDir) rmSync(ownDataDir, { recursive: true, force: true });
      resolve({ code, signal });
    });
  });

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`proxy-server did not start in ${startTimeoutMs} ms:\n${output}`));
    }, startTimeoutMs);
    const onData = (/** @type {Buffer} */ chunk) => {
      output += chunk.toString('utf8');
      const match = LISTENING.exec(output);
      if (!match?.[1]) return;
      clearTimeout(timer);
      const url = match[1];
      resolve({
        url,
        child,
        output: () => output,
        stop(signal = 'SIGTERM') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new Error(
          `proxy-server exited (code ${code}, signal ${signal}) before listening:\n${output}`,
        ),
      );
    });
  });
}

/**
 * @template T
 * @param {() => T | Promise<T>} check
 * @param {{ timeoutMs?: number, intervalMs?: number, what?: string }} [options]
 */
export async function waitFor(
  check,
  { timeoutMs = 10_000, intervalMs = 20, what = 'condition' } = {},
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * A port that was free a moment ago, for servers that cannot be told to pick one.
 * @returns {Promise<number>}
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const REDIS_READY = /Ready to accept connections/;

/**
 * Runs `redis-server` on `port` with its files in `dir` until it says it is ready.
 * @param {number} port
 * @param {string} dir
 * @param {boolean} appendonly
 * @returns {Promise<import('node:child_process').ChildProcess>}
 */
function launchRedis(port, dir, appendonly) {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  args.push('--appendonly', appendonly ? 'yes' : 'no');
  if (appendonly) args.push('--appendfsync', 'always');
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start in 10 s:\n${output}`));
    }, 10_000);
    const onData = (/** @type {Buffer} */ chunk) => {
      output += chunk.toString('utf8');
      if (!REDIS_READY.test(output)) return;
      clearTimeout(timer);
      resolve(child);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(
        new Error(
          `cannot run redis-server (Debian: apt-get install redis-server): ${error.message}`,
        ),
      );
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (code ${code}) before it was ready:\n${output}`));
    });
  });
}

/** @param {import('./index.d.mts').RedisOptions} [options] */
export async function startRedis({ appendonly = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'proxy-redis-'));
  let port = 0;
  /** @type {import('node:child_process').ChildProcess | null} */
  let child = null;
  // Another process may take the free port first: try a few.
  for (let attempt = 1; child === null; attempt++) {
    port = await freePort();
    try {
      child = await launchRedis(port, dir, appendonly);
    } catch (error) {
      if (attempt === 3) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  const stopChild = (/** @type {NodeJS.Signals} */ signal) => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null || running.signalCode !== null) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      running.once('exit', () => resolve(undefined));
      running.kill(signal);
    });
  };
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    dir,
    stop: (signal = 'SIGTERM') => stopChild(signal),
    async restart() {
      await stopChild('SIGTERM');
      child = await launchRedis(port, dir, appendonly);
    },
    async close() {
      await stopChild('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
