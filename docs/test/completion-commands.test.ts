import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { docsPath, repoRoot } from './support/doc-environment.js';
import { fencedBlocks } from './support/markdown-blocks.js';
import { logicalLines } from './support/shell-words.js';

// The "every shell" install lines write into the reader's home, so the doc check does not run
// them where they were written. A fresh account has no ~/.local/share/bash-completion or
// ~/.config/fish/completions, and a redirection into a missing directory fails: each line is
// run here in an empty HOME, as a reader on a new machine would.

const pages = ['docs/cli.md', 'packages/proxy-cli/README.md'];

/** The lines of the pages' shell blocks that save a bash or fish script under ~/. */
function documentedInstalls(): Array<{ where: string; line: string }> {
  return pages.flatMap((label) =>
    fencedBlocks(readFileSync(join(repoRoot, label), 'utf8'), label)
      .filter((block) => block.lang === 'sh')
      .flatMap((block) =>
        logicalLines(block.text)
          .filter((line) => /proxy-cli completion (?:bash|fish) > ~\//.test(line))
          .map((line) => ({ where: `${label}:${block.line}`, line })),
      ),
  );
}

/** The install line the script itself names in its header, after "Every shell:". */
function headerInstall(shell: 'bash' | 'fish'): string {
  const script = execFileSync('proxy-cli', ['completion', shell], {
    encoding: 'utf8',
    env: { ...process.env, PATH: docsPath },
  });
  const line = /^# Every shell: +(.+)$/m.exec(script)?.[1];
  if (line === undefined) throw new Error(`proxy-cli completion ${shell} names no install line`);
  return line;
}

/** Runs `line` with bash in a new, empty home; the saved script's path there. */
function runInFreshHome(line: string): { status: number | null; stderr: string; home: string } {
  const home = mkdtempSync(join(tmpdir(), 'completion-home-'));
  onTestFinished(() => rmSync(home, { recursive: true, force: true }));
  const run = spawnSync('bash', ['-c', line], {
    encoding: 'utf8',
    env: { PATH: docsPath, HOME: home },
  });
  return { status: run.status, stderr: run.stderr, home };
}

const saved = (line: string, home: string) =>
  join(home, /> ~\/(\S+)$/.exec(line)?.[1] ?? 'nowhere');

describe('completion install commands', () => {
  it('finds the bash and fish lines of both pages', () => {
    expect(documentedInstalls().map(({ where }) => where.split(':')[0])).toEqual([
      'docs/cli.md',
      'docs/cli.md',
      'packages/proxy-cli/README.md',
      'packages/proxy-cli/README.md',
    ]);
  });

  it.each(documentedInstalls())(
    '$where: $line works in a home without the directory',
    ({ line }) => {
      const { status, stderr, home } = runInFreshHome(line);
      expect(stderr).toBe('');
      expect(status).toBe(0);
      expect(readFileSync(saved(line, home), 'utf8')).toMatch(/proxy-cli/);
    },
  );

  it.each(['bash', 'fish'] as const)('the %s script header names a line that works', (shell) => {
    const line = headerInstall(shell);
    const { status, stderr, home } = runInFreshHome(line);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(existsSync(saved(line, home))).toBe(true);
  });
});
