import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { waitFor } from '../../tools/test-support/index.mjs';
import { docsPath, repoRoot } from './support/doc-environment.js';
import { fencedBlocks } from './support/markdown-blocks.js';
import { logicalLines } from './support/shell-words.js';

// The "every shell" install lines write into the reader's home, so the doc check does not run
// them where they were written. A fresh account has no ~/.local/share/bash-completion or
// ~/.config/fish/completions, and a redirection into a missing directory fails: each line is
// run here in an empty HOME, as a reader on a new machine would. zsh's line saves into a folder
// of the reader's own (`${fpath[1]}` is often root's), so a real zsh is asked to complete from it.

const pages = ['docs/cli.md', 'packages/proxy-cli/README.md'];
type Shell = 'bash' | 'zsh' | 'fish';

/** The lines of the pages' shell blocks that save a completion script under ~/. */
function documentedInstalls(): Array<{ where: string; line: string }> {
  return pages.flatMap((label) =>
    fencedBlocks(readFileSync(join(repoRoot, label), 'utf8'), label)
      .filter((block) => block.lang === 'sh')
      .flatMap((block) =>
        logicalLines(block.text)
          .filter((line) => /proxy-cli completion (?:bash|zsh|fish) > ~\//.test(line))
          .map((line) => ({ where: `${label}:${block.line}`, line })),
      ),
  );
}

function completionScript(shell: Shell): string {
  return execFileSync('proxy-cli', ['completion', shell], {
    encoding: 'utf8',
    env: { ...process.env, PATH: docsPath },
  });
}

/** The install line the script itself names in its header, after "Every shell:". */
function headerInstall(shell: Shell): string {
  const line = /^# Every shell: +(.+)$/m.exec(completionScript(shell))?.[1];
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
  it('finds the bash, zsh and fish lines of both pages', () => {
    expect(documentedInstalls().map(({ where }) => where.split(':')[0])).toEqual([
      ...Array(3).fill('docs/cli.md'),
      ...Array(3).fill('packages/proxy-cli/README.md'),
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

  it.each(['bash', 'zsh', 'fish'] as const)(
    'the %s script header names a line that works',
    (shell) => {
      const line = headerInstall(shell);
      const { status, stderr, home } = runInFreshHome(line);
      expect(stderr).toBe('');
      expect(status).toBe(0);
      expect(existsSync(saved(line, home))).toBe(true);
    },
  );

  it('zsh completes from the saved file with the fpath line the script and the pages name', async () => {
    const fpathLine = /before compinit: (fpath=.+)$/m.exec(completionScript('zsh'))?.[1];
    expect(fpathLine).toBe('fpath=(~/.zfunc $fpath)');
    for (const page of pages)
      expect(readFileSync(join(repoRoot, page), 'utf8'), page).toContain(`\`${fpathLine}\``);
    const { status, home } = runInFreshHome(headerInstall('zsh'));
    expect(status).toBe(0);
    writeFileSync(
      join(home, '.zshrc'),
      `${fpathLine}\nautoload -Uz compinit && compinit\nPS1='ready%% '\n`,
    );
    const socket = `completion-zsh-${process.pid}`;
    const tmux = (...args: string[]) =>
      execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], {
        encoding: 'utf8',
        env: { PATH: docsPath, HOME: home, TERM: 'xterm' },
      });
    tmux('new-session', '-d', '-x', '100', '-y', '20', 'zsh -i');
    onTestFinished(() => void tmux('kill-server'));
    const screenWith = (text: string) =>
      waitFor(() => (tmux('capture-pane', '-p').includes(text) ? true : undefined), {
        timeoutMs: 10_000,
        intervalMs: 50,
        what: `zsh's screen to show ${text}`,
      });
    await screenWith('ready%');
    for (const [typed, shown] of [
      ['proxy-cli --stat', '--stats   -- show queue, worker and task counts'],
      // Completion pass: a value typed after = was offered nothing.
      ['proxy-cli --status=f', 'proxy-cli --status=failed'],
      // Review: an option whose value may be left out was not completed after its = either.
      ['proxy-cli --demo=q', 'proxy-cli --demo=queue-full'],
      // Noticed: after a command or an action's flag, every flag was offered (--stats, --wait).
      ['proxy-cli list --st', 'proxy-cli list --status='],
      ['proxy-cli --stats --w', 'proxy-cli --stats --watch'],
      ['proxy-cli submit api/x --w', 'proxy-cli submit api/x --wait'],
      ['proxy-cli --stats --watch --p', 'proxy-cli --stats --watch --poll-interval='],
      ['proxy-cli demo ', 'queue-full'],
    ] as const) {
      tmux('send-keys', 'C-u', typed, 'Tab');
      await screenWith(shown);
    }
  });
});
