// @ts-check
// Which proxy-server the figures belong to: the commit it was built from, and whether its
// sources differed from that commit when the run started.
import { spawnSync } from 'node:child_process';

/**
 * @param {string} repoRoot
 * @returns {string} e.g. `3c6f574`, `3c6f574 with uncommitted changes`, or `unknown (not a git checkout)`
 */
export function proxyServerRevision(repoRoot) {
  const git = (/** @type {string[]} */ args) =>
    spawnSync('git', args, { cwd: repoRoot, encoding: 'utf8' });
  const head = git(['rev-parse', '--short', 'HEAD']);
  if (head.error || head.status !== 0) return 'unknown (not a git checkout)';
  const dirty = git([
    'status',
    '--porcelain',
    '--',
    'packages/proxy-server',
    'packages/proxy-client',
  ]);
  const changed = dirty.status === 0 && dirty.stdout.trim() !== '';
  return `${head.stdout.trim()}${changed ? ' with uncommitted changes' : ''}`;
}
