import { spawnSync } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
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

/** A fresh dir, removed after the test. */
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'proxy-data-dir-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const HINT = '; choose a dir this user can write with --data-dir (or PROXY_DATA_DIR)\n';

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
      `proxy-server: cannot create the data dir ${file}: ${file} is a file, not a directory${HINT}`,
    );
    expect(await readFile(file, 'utf8')).toBe('mine');
  });
});

// Operator pass: `--data-dir /x/afile/sub` said only "ENOTDIR: not a directory, mkdir
// '/x/afile/sub'", naming the dir asked for and not the file on its way.
describe('a --data-dir under a file', () => {
  it('names the file in the way, however deep the dir asked for', async () => {
    const parent = await freshDir();
    const file = join(parent, 'afile');
    await writeFile(file, 'mine');
    for (const dir of [join(file, 'sub'), join(file, 'sub', 'deeper')]) {
      expect(runBin(dir).stderr).toBe(
        `proxy-server: cannot create the data dir ${dir}: ${file} is a file, not a directory, in the way of ${dir}${HINT}`,
      );
    }
    expect(await readFile(file, 'utf8')).toBe('mine');
  });

  it('names a symbolic link to a file on the way, and where it leads', async () => {
    const parent = await freshDir();
    await writeFile(join(parent, 'afile'), 'mine');
    const link = join(parent, 'link');
    await symlink(join(parent, 'afile'), link);
    const dir = join(link, 'sub');
    const result = runBin(dir);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      `proxy-server: cannot create the data dir ${dir}: ${link} (a symbolic link to ${join(parent, 'afile')}) is a file, not a directory, in the way of ${dir}${HINT}`,
    );
  });

  it('names a symbolic link to nothing on the way', async () => {
    const parent = await freshDir();
    const link = join(parent, 'link');
    await symlink(join(parent, 'nowhere'), link);
    const dir = join(link, 'sub');
    const result = runBin(dir);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      `proxy-server: cannot create the data dir ${dir}: ${link} is a symbolic link to ${join(parent, 'nowhere')}, which does not exist${HINT}`,
    );
  });

  // Review: `chain -> dangling -> nothing` said dangling "does not exist", though it is there, a
  // link itself: the line now follows the chain to the end that is missing.
  it('follows a chain of symbolic links to nothing to its end', async () => {
    const parent = await freshDir();
    const chain = join(parent, 'chain');
    const dangling = join(parent, 'dangling');
    const nothing = join(parent, 'nothing');
    await symlink(nothing, dangling);
    await symlink(dangling, chain);
    for (const dir of [chain, join(chain, 'sub')]) {
      expect(runBin(dir).stderr).toBe(
        `proxy-server: cannot create the data dir ${dir}: ${chain} is a symbolic link to ${dangling}, a symbolic link to ${nothing}, which does not exist${HINT}`,
      );
    }
  });
});

// Root may enter and write any dir: as root, the bin runs without the capabilities that let it,
// so the modes hold for it as for its owner. (As another user it could not reach a clone in a
// dir of root's alone, nor npx's Node under /root.)
const asUser =
  process.getuid?.() === 0 ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search'] : [];
const runBinAsUser = (dir: string) => {
  const [command = process.execPath, ...prefix] = [...asUser, process.execPath];
  return spawnSync(
    command,
    [...prefix, proxyServerBin, '--target-host', 'h', '--listen-port', '0', '--data-dir', dir],
    { encoding: 'utf8', timeout: 10_000 },
  );
};
const uidOf = (stderr: string) => /\(uid (\d+)/.exec(stderr)?.[1];

// Operator pass: under a dir it may not enter, the proxy said "EACCES ... mkdir" of a level that
// was there all along, not the dir whose mode was the matter.
describe('a --data-dir under a dir this user may not enter or write', () => {
  it('names the dir it may not enter', async () => {
    const parent = await freshDir();
    const closed = join(parent, 'closed');
    await mkdir(join(closed, 'there'), { recursive: true });
    // No x for anyone, its owner included.
    await chmod(closed, 0o600);
    const dir = join(closed, 'there', 'sub');
    const result = runBinAsUser(dir);
    await chmod(closed, 0o755);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      `proxy-server: cannot create the data dir ${dir}: ${closed} is not searchable by this user (uid ${uidOf(result.stderr)}; it needs the x permission on it)${HINT}`,
    );
  });

  it('names the dir it may not write', async () => {
    const parent = await freshDir();
    const readOnly = join(parent, 'read-only');
    await mkdir(readOnly);
    await chmod(readOnly, 0o555);
    const dir = join(readOnly, 'sub', 'deeper');
    const result = runBinAsUser(dir);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      `proxy-server: cannot create the data dir ${dir}: ${readOnly} is not writable by this user (uid ${uidOf(result.stderr)}), so ${join(readOnly, 'sub')} cannot be made in it${HINT}`,
    );
  });
});

// Operator pass: a data dir that was there but not writable said "is not writable: EACCES:
// permission denied, access ...", naming neither the user nor what to chmod or chown.
describe('a --data-dir that is there but this user may not write', () => {
  it('names the dir, the user, the permission it lacks and the mode', async () => {
    const dir = join(await freshDir(), 'data');
    await mkdir(dir, { mode: 0o555 });
    const result = runBinAsUser(dir);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      `proxy-server: the data dir ${dir} is not writable by this user (uid ${uidOf(result.stderr)}; it needs w on it, owned by this user with mode 0555), so proxy-server.lock and tasks.db cannot be kept in it${HINT}`,
    );
  });

  // Re-read: a dir lacking only r, or only x, was headed "not writable" too, its brackets saying
  // otherwise: the heading now names the permission the brackets do.
  it.each([
    ['0300', 'not readable', 'r'],
    ['0600', 'not searchable', 'x'],
  ])('mode %s: headed %s, needing %s', async (octal, heading, needed) => {
    const dir = join(await freshDir(), 'data');
    await mkdir(dir, { mode: Number.parseInt(octal, 8) });
    const result = runBinAsUser(dir);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      `proxy-server: the data dir ${dir} is ${heading} by this user (uid ${uidOf(result.stderr)}; it needs ${needed} on it, owned by this user with mode ${octal}), so proxy-server.lock and tasks.db cannot be kept in it${HINT}`,
    );
  });

  // A restore done as root leaves the file root's, or another user's: the line says whose, so
  // that chown, not chmod, is seen to be the fix. Only root may give a file away.
  it('names a tasks.db this user may not write, and whose it is, not the dir it is in', async () => {
    const dir = await freshDir();
    const database = join(dir, 'tasks.db');
    await writeFile(database, '', { mode: 0o600 });
    const asRoot = process.getuid?.() === 0;
    if (asRoot) await chown(database, 65534, 65534);
    else await chmod(database, 0o000);
    const result = runBinAsUser(dir);
    expect(result.status).toBe(2);
    const owner = asRoot
      ? 'owned by uid 65534 with mode 0600'
      : 'owned by this user with mode 0000';
    expect(result.stderr).toBe(
      `proxy-server: ${database} is not writable by this user (uid ${uidOf(result.stderr)}; it needs r and w on it, ${owner})\n`,
    );
  });

  it('names a tasks.db this user may write but not read as not readable', async () => {
    const dir = await freshDir();
    const database = join(dir, 'tasks.db');
    await writeFile(database, '', { mode: 0o200 });
    const result = runBinAsUser(dir);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      `proxy-server: ${database} is not readable by this user (uid ${uidOf(result.stderr)}; it needs r on it, owned by this user with mode 0200)\n`,
    );
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
        `^proxy-server: cannot create the data dir ${home}/\\.local/state/proxy-server: ${home} is a file, not a directory, in the way of .*; it is the default data dir: choose another with --data-dir \\(or PROXY_DATA_DIR\\)\\n$`,
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
