import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { proxyServerBin } from 'test-support';
import { describe, expect, it, onTestFinished } from 'vitest';

// Hostile-input audit: `--data-dir /proc/forbidden/x` spun at 100% CPU forever: Node's recursive
// mkdirSync retries a level that fails with ENOENT once its parent exists, and /proc exists yet
// takes no new directory. The bin now fails at once with the data dir's one-line error, exit 2.

const runBin = (dir: string) =>
  spawnSync(
    process.execPath,
    [proxyServerBin, '--target-host', 'h', '--listen-port', '0', '--data-dir', dir],
    { encoding: 'utf8', timeout: 10_000 },
  );

describe('a --data-dir that can never be created', () => {
  it.each(['/proc/forbidden/x', '/proc/forbidden'])(
    '%s: exit 2 at once, one line naming the path',
    (dir) => {
      const result = runBin(dir);
      // Not killed at the run's 10 s: it did not spin.
      expect(result.signal).toBeNull();
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(
        new RegExp(`^proxy-server: cannot create the data dir ${dir}: ENOENT`),
      );
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    },
  );
});

describe('a --data-dir that is a file', () => {
  it('exits 2 with one line saying so, and leaves the file alone', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'proxy-data-dir-'));
    onTestFinished(() => rm(parent, { recursive: true, force: true }));
    const file = join(parent, 'tasks');
    await writeFile(file, 'mine');
    const result = runBin(file);
    expect(result.status).toBe(2);
    // First-hour pass: the line said what was wrong, not what to do.
    expect(result.stderr).toBe(
      `proxy-server: cannot create the data dir ${file}: a file, not a directory, is there; choose a dir this user can write with --data-dir (or PROXY_DATA_DIR)\n`,
    );
    expect(await readFile(file, 'utf8')).toBe('mine');
  });
});

describe('a default data dir that cannot be made', () => {
  it('says it is the default, and how to choose another', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'proxy-data-dir-'));
    onTestFinished(() => rm(parent, { recursive: true, force: true }));
    // A HOME that is a file: ~/.local/state/proxy-server can never be made under it.
    const home = join(parent, 'home');
    await writeFile(home, 'not a directory');
    const result = spawnSync(
      process.execPath,
      [proxyServerBin, '--target-host', 'h', '--listen-port', '0'],
      { encoding: 'utf8', timeout: 10_000, env: { PATH: process.env.PATH, HOME: home } },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      new RegExp(
        `^proxy-server: cannot create the data dir ${home}/\\.local/state/proxy-server: ENOTDIR.*; it is the default data dir: choose another with --data-dir \\(or PROXY_DATA_DIR\\)\\n$`,
      ),
    );
  });

  // Review: the hint came with a refusal of a file in the default dir too (here a directory in
  // tasks.db's place), where another dir would leave the tasks behind.
  it('says nothing of another dir when the dir is fine and a file in it is not', async () => {
    const home = await mkdtemp(join(tmpdir(), 'proxy-home-'));
    onTestFinished(() => rm(home, { recursive: true, force: true }));
    const dir = join(home, '.local', 'state', 'proxy-server');
    await mkdir(dir, { recursive: true });
    await mkdir(join(dir, 'tasks.db'));
    const result = spawnSync(
      process.execPath,
      [proxyServerBin, '--target-host', 'h', '--listen-port', '0'],
      { encoding: 'utf8', timeout: 10_000, env: { PATH: process.env.PATH, HOME: home } },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('tasks.db is a directory, not a file');
    expect(result.stderr).not.toContain('it is the default data dir');
  });
});
