// Brings a fresh clone to a runnable state with nothing but Node and npm: finds or fetches
// pnpm 10, installs with the frozen lock file when node_modules is missing or stale, builds.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PNPM_VERSION = '10.34.8';

function run(cmd, args) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: false });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    console.error(`setup: \`${[cmd, ...args].join(' ')}\` exited with ${result.status}`);
    process.exit(result.status ?? 1);
  }
}

function pnpmCommand() {
  const probe = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
  if (probe.status === 0 && probe.stdout.trim().startsWith('10.')) return ['pnpm'];
  return ['npx', '-y', `pnpm@${PNPM_VERSION}`];
}

function installIsStale() {
  const marker = join(root, 'node_modules', '.modules.yaml');
  if (!existsSync(marker)) return true;
  const installedAt = statSync(marker).mtimeMs;
  return ['pnpm-lock.yaml', 'package.json'].some(
    (f) => statSync(join(root, f)).mtimeMs > installedAt,
  );
}

const [pnpm, ...pnpmArgs] = pnpmCommand();
if (installIsStale()) run(pnpm, [...pnpmArgs, 'install', '--frozen-lockfile']);
// The build is silent for some 20 s: said first, so that a quiet terminal reads as work.
console.log('setup: building proxy-server, proxy-client and proxy-cli...');
run(pnpm, [...pnpmArgs, '--silent', 'build']);
console.log('setup: built');
