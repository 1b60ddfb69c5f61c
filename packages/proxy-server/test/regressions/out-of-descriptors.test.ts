import type { DataBody, Stats } from 'proxy-client/wire';
import { describe, expect, it, vi } from 'vitest';
import { spawnUnderOpenFilesLimit, startTarget } from '../helper.js';

const CALLS = 300;

// A helper ran 2,000 calls under a limit of 1,024 open files: 1,597 tasks failed at once with
// EMFILE, though none of their calls had gone out and descriptors freed as calls ended.
describe('a proxy whose calls need more file descriptors than it may open', () => {
  it('runs every task: a call without a descriptor waits for one, and the log says so once', {
    timeout: 60_000,
  }, async () => {
    const target = await startTarget();
    const args = [
      ...['--target-url', target.url, '--store', 'memory', '--listen-host', '127.0.0.1'],
      ...['--listen-port', '0', '--log-level', 'warn', '--log-format', 'json'],
      ...['--max-concurrent', String(CALLS), '--num-workers', String(CALLS)],
      ...['--max-queue-size', String(CALLS)],
    ];
    const { url, stdout, stderr } = await spawnUnderOpenFilesLimit(256, args);

    // One after another, on one kept-alive connection: the clients must not take the descriptors.
    for (let i = 0; i < CALLS; i++) {
      const submitted = await fetch(`${url}/api/function1?delay_ms=1500`, { method: 'POST' });
      expect(submitted.status).toBe(202);
      await submitted.arrayBuffer();
    }
    const stats = async () =>
      ((await (await fetch(`${url}/stats`)).json()) as DataBody<Stats>).data.tasks;
    await vi.waitFor(
      async () => expect((await stats()).completed + (await stats()).failed).toBe(CALLS),
      { timeout: 45_000, interval: 200 },
    );
    expect(await stats()).toMatchObject({ completed: CALLS, failed: 0 });
    const waits = `${stdout()}${stderr()}`
      .split('\n')
      .filter((line) => line.includes('ran out of file descriptors'));
    expect(waits.length).toBeGreaterThanOrEqual(1);
    expect(waits.length).toBeLessThanOrEqual(2);
  });
});
