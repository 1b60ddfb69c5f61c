import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { repoRoot } from './support/doc-environment.js';

// First-hour pass: `npm run setup` on a clone already installed printed nothing for about 22 s
// while it built (the build runs with --silent), which reads as a hang. getting-started.md
// sends every reader through it.

/** A PATH whose pnpm is a stand-in: version 10, and each call's arguments written to a log. */
function pathWithStandInPnpm(): { path: string; calls: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'setup-pnpm-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, 'calls.log');
  writeFileSync(log, '');
  const pnpm = join(dir, 'pnpm');
  writeFileSync(
    pnpm,
    `#!/bin/sh\nif [ "$1" = --version ]; then echo 10.34.8; exit 0; fi\necho "$*" >> '${log}'\n`,
  );
  chmodSync(pnpm, 0o755);
  return {
    path: `${dir}${delimiter}${process.env.PATH ?? ''}`,
    calls: () => readFileSync(log, 'utf8').trim().split('\n'),
  };
}

it('npm run setup says it is building before the silent build, and when it is done', () => {
  const pnpm = pathWithStandInPnpm();
  const result = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'setup.mjs')], {
    cwd: repoRoot,
    env: { ...process.env, PATH: pnpm.path },
    encoding: 'utf8',
    timeout: 20_000,
  });
  expect(result.status, result.stderr).toBe(0);
  expect(pnpm.calls().at(-1)).toBe('--silent build');
  expect(result.stdout).toBe(
    'setup: building proxy-server, proxy-client and proxy-cli...\nsetup: built\n',
  );
});
