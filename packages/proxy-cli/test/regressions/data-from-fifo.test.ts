import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { spawnCli } from '../e2e/harness.js';

// `--data @fifo` read the FIFO on a libuv worker thread: Ctrl-C aborted nothing, and the run went
// on until the writer closed, however long that took. Nothing listens at the URL: the read comes
// before any request, and none may be sent.
const URL = 'http://127.0.0.1:9';

/** A FIFO in a directory of its own, removed when the test ends. */
function fifo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'proxy-cli-fifo-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'body.json');
  execFileSync('mkfifo', [path]);
  return path;
}

/**
 * The FIFO's write end, once the CLI holds its read end: a non-blocking open for writing fails
 * (ENXIO) until a reader has it open. `close()` is the writer's end of file.
 */
async function writerOf(path: string): Promise<{ write(text: string): void; close(): void }> {
  const fd = await vi.waitFor(() => openSync(path, constants.O_WRONLY | constants.O_NONBLOCK), {
    timeout: 10_000,
  });
  let open = true;
  const close = () => {
    if (open) closeSync(fd);
    open = false;
  };
  onTestFinished(close);
  return { write: (text) => void writeSync(fd, text), close };
}

describe('--data @fifo', () => {
  it('Ctrl-C while the writer sends nothing stops the read at once: exit 130, nothing submitted', async () => {
    const path = fifo();
    const cli = spawnCli(['submit', 'api/x', '--data', `@${path}`, '--url', URL]);
    await writerOf(path);
    cli.child.kill('SIGINT');
    const run = await cli.done;
    expect(run.code).toBe(130);
    expect(run.stderr).toBe(
      `error: interrupted while reading --data from ${path}; nothing was submitted\n`,
    );
  });

  it('waits for a writer that comes after the CLI opened it, and reads to its end', async () => {
    const path = fifo();
    const cli = spawnCli(['submit', 'api/x', '--data', `@${path}`, '--url', URL]);
    const writer = await writerOf(path);
    writer.write('{"from": "a fifo"');
    writer.close();
    const run = await cli.done;
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`error: --data: ${path} is not valid JSON`);
  });
});
