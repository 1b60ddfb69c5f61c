import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './doc-environment.js';
import { type FencedBlock, readBlocks } from './markdown-blocks.js';

/** README.md and docs/*.md, as repo-relative labels with their absolute paths. */
export function docFiles(): Array<{ label: string; path: string }> {
  const docs = readdirSync(join(repoRoot, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => ({ label: `docs/${name}`, path: join(repoRoot, 'docs', name) }));
  const readme = join(repoRoot, 'README.md');
  return existsSync(readme) ? [{ label: 'README.md', path: readme }, ...docs] : docs;
}

export function allBlocks(): FencedBlock[] {
  return docFiles().flatMap(({ label, path }) => readBlocks(path, label));
}
