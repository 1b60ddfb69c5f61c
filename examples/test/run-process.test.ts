import { tmpdir } from 'node:os';
import { expect, it } from 'vitest';
import { runProcess } from './support/run-process.js';

// CI: a walkthrough that refused its settings exited before reading the input it was given, and
// the write to its closed stdin failed the whole run as an uncaught EPIPE, every test passing.
it('a program that exits without reading its input: its result, and no uncaught EPIPE', async () => {
  // More than a pipe holds, so the writes go on after the program has gone.
  const result = await runProcess('sh', ['-c', 'exit 2'], {
    cwd: tmpdir(),
    input: 'x'.repeat(4 * 1024 * 1024),
  });
  expect(result).toMatchObject({ code: 2, stdout: '', stderr: '', timedOut: false });
  expect(result.inputUnread?.code).toBe('EPIPE');
});
