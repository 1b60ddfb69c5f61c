import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ProcessResult, runProcess } from '../../../examples/test/support/run-process.js';
import type { FencedBlock } from './markdown-blocks.js';

/**
 * Runs the runnable blocks of one page in order, like a reader pasting them into one terminal:
 * shell variables a block sets (`TASK_ID=...`) are there for the next block. Each block runs
 * under `set -euo pipefail`, so any failing command fails the block.
 */
export class BlockSession {
  readonly #dir = mkdtempSync(join(tmpdir(), 'doc-blocks-'));
  readonly #state = join(this.#dir, 'state.sh');

  constructor(
    private readonly cwd: string,
    private readonly env: Record<string, string>,
  ) {
    writeFileSync(this.#state, '');
  }

  run(block: FencedBlock, extraEnv: Record<string, string> = {}): Promise<ProcessResult> {
    const script = join(this.#dir, `block-${block.line}.sh`);
    writeFileSync(
      script,
      [
        // One stream, in the order a reader's terminal shows it, for `text expected` blocks.
        'exec 2>&1',
        'set -euo pipefail',
        `__before=$(compgen -v)`,
        `source ${JSON.stringify(this.#state)}`,
        block.text,
        // Keep only what the block itself defined: the reader's own variables, not bash's.
        `__new=$(comm -13 <(printf '%s\\n' "$__before" | sort) <(compgen -v | sort) | grep -Ev '^(BASH|FUNCNAME|PIPESTATUS|_|__)' || true)`,
        `if [ -n "$__new" ]; then declare -p $__new > ${JSON.stringify(this.#state)}; fi`,
        '',
      ].join('\n'),
    );
    return runProcess('bash', ['--noprofile', '--norc', script], {
      cwd: this.cwd,
      // A suite started through `npx -p node@24` hands its package list down; a reader's
      // terminal has none, and with it `npx --no -- proxy-cli` would refuse to run.
      env: { ...this.env, ...extraEnv, npm_config_package: undefined },
      timeoutMs: 30_000,
    });
  }

  close(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
