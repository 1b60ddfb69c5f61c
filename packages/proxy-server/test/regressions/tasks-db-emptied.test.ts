import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { proxyServerBin, spawnProxyServer } from 'test-support';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startTarget } from '../helper.js';

// Operator pass: a tasks.db truncated to 0 bytes under a running proxy was refused as damaged,
// yet the next start took the empty file for a new store: every task gone, without a word.

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'proxy-emptied-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A start of the bin on `dir` that is expected to end by itself (a refusal). */
const startOn = (dir: string) =>
  spawnSync(
    process.execPath,
    [proxyServerBin, '--target-host', 'h', '--listen-port', '0', '--data-dir', dir],
    { encoding: 'utf8', timeout: 10_000 },
  );

describe('a tasks.db of 0 bytes', () => {
  it('is refused at start, with one line naming it, when the data dir held a store', async () => {
    const target = await startTarget();
    const dir = await dataDir();
    const proxy = await spawnProxyServer({
      args: ['--target-url', target.url, '--data-dir', dir],
    });
    const submitted = await fetch(`${proxy.url}/api/fast1`, { method: 'POST' });
    expect(submitted.status).toBe(202);
    await proxy.stop();
    const path = join(dir, 'tasks.db');
    await truncate(path, 0);

    const result = startOn(dir);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      `proxy-server: ${path} is empty (0 bytes), yet this data dir held a task database: its tasks are not in it. Restore it from a backup, or, to start afresh with no tasks, move it away with its -wal and -shm files\n`,
    );
    expect((await stat(path)).size).toBe(0);
  });

  it('starts as a new store in a data dir that never held one', async () => {
    const dir = await dataDir();
    await writeFile(join(dir, 'tasks.db'), '');
    const proxy = await spawnProxyServer({ args: ['--target-host', 'h', '--data-dir', dir] });
    expect(proxy.output()).toMatch(/tasks kept in sqlite under .*: 0 held, 0 pending/);
    await proxy.stop();
    expect(await readdir(dir)).toContain('tasks.db');
    expect((await stat(join(dir, 'tasks.db'))).size).toBeGreaterThan(0);
  });
});
