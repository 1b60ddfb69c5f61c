import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type SlowTarget, startSlowTarget } from '../slow-target/server.mjs';
import { describeRun, runProcess } from './support/run-process.js';

const examplesDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const binPath = join(examplesDir, 'slow-target', 'bin.mjs');

// Hostile pass: a client that went away mid-body (a proxy killed while it forwarded 10 MiB)
// crashed the demo target with an unhandled ECONNRESET, and the next task met a closed port.

const started: SlowTarget[] = [];
afterEach(async () => {
  for (const target of started.splice(0)) await target.close();
});

describe('the demo target', () => {
  it('outlives a client that drops in the middle of a request body', async () => {
    const target = await startSlowTarget({ port: 0 });
    started.push(target);
    const { port } = target;
    await new Promise<void>((resolve) => {
      const dropped = request({
        port,
        host: '127.0.0.1',
        method: 'POST',
        path: '/api/text',
        headers: { 'content-length': 1000 },
      });
      dropped.on('error', () => resolve());
      dropped.write('x', () => setImmediate(() => dropped.destroy()));
      dropped.on('close', () => resolve());
    });
    const health = await fetch(`${target.url}/health`);
    expect(health.status).toBe(200);
  });
});

describe('the slow-target bin', () => {
  it('names a taken port in one line and exits 1, without a stack trace', async () => {
    const taken = await startSlowTarget({ port: 0 });
    started.push(taken);
    const result = await runProcess(
      process.execPath,
      [binPath, '--port', String(taken.port), '--host', '127.0.0.1'],
      { cwd: examplesDir, timeoutMs: 15_000 },
    );
    expect(result.code, describeRun('slow-target on a taken port', result)).toBe(1);
    expect(result.stderr.trim()).toBe(
      `slow-target: cannot listen on 127.0.0.1:${taken.port}: address in use; choose another --port`,
    );
    expect(result.stdout).toBe('');
  });

  // New user's pass: --help listed nine endpoints of the twelve rows in the README's table, and
  // left out the x-delay-ms header, so /api/flaky and /_target/reset went unnoticed.
  it('lists in --help every endpoint of its README, and every way to slow one', async () => {
    const readme = await readFile(join(examplesDir, 'slow-target', 'README.md'), 'utf8');
    const paths = readme
      .split('\n')
      .filter((line) => line.startsWith('| `/'))
      .flatMap((line) => [...(line.split('|')[1] ?? '').matchAll(/`(\/[^`?]*)/g)])
      .map((match) => match[1]);
    expect(paths).toContain('/api/flaky');
    const result = await runProcess(process.execPath, [binPath, '--help'], {
      cwd: examplesDir,
      timeoutMs: 15_000,
    });
    expect(result.code, describeRun('slow-target --help', result)).toBe(0);
    const listed = result.stdout
      .split('\n')
      .flatMap((line) => /^ {2}(\/[^\s,]*)(?:, (\/\S*))?/.exec(line)?.slice(1) ?? [])
      .filter((path) => path !== undefined)
      .map((path) => path.replace(/\?.*/, ''));
    expect(listed.sort()).toEqual([...paths].sort());
    for (const way of ['?delay_ms=N', 'x-delay-ms', '"delay_ms"', '--delay-ms']) {
      expect(result.stdout).toContain(way);
    }
  });
});
