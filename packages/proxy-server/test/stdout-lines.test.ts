import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { linesTo } from '../src/logging/stdout-lines.js';

/** A pipe with no reader yet (a FIFO opened read-write, which never blocks its opener). */
async function stalledPipe(): Promise<{ fd: number; drain(): string }> {
  const dir = await mkdtemp(join(tmpdir(), 'stdout-lines-'));
  const path = join(dir, 'pipe');
  execFileSync('mkfifo', [path]);
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const chunk = Buffer.alloc(65_536);
  onTestFinished(async () => {
    closeSync(reader);
    closeSync(fd);
    await rm(dir, { recursive: true, force: true });
  });
  return {
    fd,
    /** Reads what the pipe holds now (EAGAIN once it is empty). */
    drain() {
      let read = '';
      for (;;) {
        try {
          const n = readSync(reader, chunk);
          if (n === 0) return read;
          read += chunk.toString('utf8', 0, n);
        } catch {
          return read;
        }
      }
    },
  };
}

// Review: a reader that stays but reads nothing (a stalled log shipper) made the log's buffer,
// and the proxy's memory, grow for as long as it stalled.
describe('log lines to a reader that takes none', () => {
  it('keeps at most the set bytes for it, says once that lines are dropped, and writes on once it reads', async () => {
    const pipe = await stalledPipe();
    const onDropped = vi.fn();
    const onFailed = vi.fn();
    const lines = linesTo(pipe.fd, { maxBufferedBytes: 8_192, onDropped, onFailed });
    const line = `${'x'.repeat(99)}\n`;
    // Written in one go, far past the buffer (the pipe takes its share only as it is written).
    for (let i = 0; i < 1_000; i++) lines.write(line);
    await vi.waitFor(() => expect(onDropped).toHaveBeenCalledTimes(1));
    // A line written now comes after all that was kept: once it is through, so is the rest.
    lines.write('after\n');
    let taken = '';
    await vi.waitFor(() => {
      taken += pipe.drain();
      expect(taken.endsWith('after\n')).toBe(true);
    });
    const kept = taken.length - 'after\n'.length;
    // Whole lines, never more than the buffer and the pipe held together.
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(65_536 + 8_192);
    expect(kept % line.length).toBe(0);
    expect(onDropped).toHaveBeenCalledTimes(1);
    expect(onFailed).not.toHaveBeenCalled();
  });
});
