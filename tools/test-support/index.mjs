// @ts-check
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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
