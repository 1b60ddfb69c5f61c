import { readdirSync, readlinkSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { spawnCli } from '../e2e/harness.js';

// `--data @/dev/tty` (any character device) was read on a libuv worker thread, as FIFOs were
// before: a terminal nobody types at blocked that thread, and neither Ctrl-C nor SIGTERM ended
// the run. A pty's master (/dev/ptmx) is a terminal that no one writes to, so its read blocks.
// Nothing listens at the URL: the read comes before any request, and none may be sent.
const URL = 'http://127.0.0.1:9';
const DEVICE = '/dev/ptmx';

/** Whether process `pid` has `path` open (Linux's /proc). */
function holds(pid: number, path: string): boolean {
  const fds = `/proc/${pid}/fd`;
  return readdirSync(fds).some((fd) => {
    try {
      return readlinkSync(`${fds}/${fd}`) === path;
    } catch {
      return false; // closed meanwhile
    }
  });
}

describe('--data @<character device>', () => {
  it('Ctrl-C while a terminal sends nothing stops the read at once: exit 130, nothing submitted', async () => {
    const cli = spawnCli(['submit', 'api/x', '--data', `@${DEVICE}`, '--url', URL]);
    const pid = cli.child.pid ?? Number.NaN;
    await vi.waitFor(() => expect(holds(pid, DEVICE)).toBe(true), { timeout: 10_000 });
    cli.child.kill('SIGINT');
    const run = await cli.done;
    expect(run.code).toBe(130);
    expect(run.stderr).toBe(
      `error: interrupted while reading --data from ${DEVICE}; nothing was submitted\n`,
    );
  });

  it('reads a device that is no terminal to its end, as a file', async () => {
    const run = await spawnCli(['submit', 'api/x', '--data', '@/dev/null', '--url', URL]).done;
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('error: --data: /dev/null is not valid JSON');
  });
});
