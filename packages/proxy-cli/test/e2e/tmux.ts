import { execFileSync } from 'node:child_process';
import { proxyCliBin, waitFor } from 'test-support';
import { onTestFinished } from 'vitest';

let sessions = 0;

export interface Terminal {
  /** The screen as a person sees it (`withEscapes`: with its colour codes). */
  screen(withEscapes?: boolean): string;
  /** Polls the screen until `check` holds, and returns that screen. */
  waitForScreen(
    check: (screen: string) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<string>;
  sendKeys(...keys: string[]): void;
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * Runs proxy-cli in a real pseudo-terminal: a tmux session of its own (own socket, killed after
 * the test). When the CLI ends, the pane prints `[exit N]` and stays open for the last capture.
 */
export function runInTerminal(
  args: string[],
  {
    width = 110,
    height = 45,
    env: extraEnv = {},
  }: { width?: number; height?: number; env?: Record<string, string> } = {},
): Terminal {
  const socket = `proxy-cli-test-${process.pid}-${++sessions}`;
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', LANG: 'C.UTF-8' };
  // npm_command: set under `npx vitest`, where the CLI would write its hints for npx.
  for (const name of [
    'NO_COLOR',
    'FORCE_COLOR',
    'PROXY_URL',
    'PROXY_API_KEY',
    'CI',
    'TMUX',
    'npm_command',
  ])
    delete env[name];
  Object.assign(env, extraEnv);
  const tmux = (...tmuxArgs: string[]) =>
    execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...tmuxArgs], { env, encoding: 'utf8' });

  // tmux gives its panes a TERM of its own: a test that asks for another sets it in the command.
  const term = extraEnv['TERM'] === undefined ? [] : ['env', `TERM=${extraEnv['TERM']}`];
  const command = [...term, process.execPath, proxyCliBin, ...args].map(shellQuote).join(' ');
  tmux(
    'new-session',
    '-d',
    '-s',
    'cli',
    '-x',
    String(width),
    '-y',
    String(height),
    `${command}; echo "[exit $?]"; read _`,
  );
  onTestFinished(() => {
    try {
      tmux('kill-server');
    } catch {
      // Already gone.
    }
  });

  const screen = (withEscapes = false) =>
    tmux('capture-pane', '-p', '-J', ...(withEscapes ? ['-e'] : []), '-t', 'cli').replace(
      /\n+$/,
      '\n',
    );
  return {
    screen,
    waitForScreen: (check, what, timeoutMs = 15_000) =>
      waitFor(
        () => {
          const text = screen();
          return check(text) ? text : undefined;
        },
        { timeoutMs, intervalMs: 50, what },
      ),
    sendKeys: (...keys) => void tmux('send-keys', '-t', 'cli', ...keys),
  };
}

/** ora's default spinner frames. */
export const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;
