import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './doc-environment.js';
import { type FencedBlock, readBlocks } from './markdown-blocks.js';

/** The READMEs that teach commands (root, examples, slow-target) and docs/*.md, with labels. */
export function docFiles(): Array<{ label: string; path: string }> {
  const docs = readdirSync(join(repoRoot, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => ({ label: `docs/${name}`, path: join(repoRoot, 'docs', name) }));
  const readmes = ['README.md', 'examples/README.md', 'examples/slow-target/README.md']
    .map((label) => ({ label, path: join(repoRoot, label) }))
    .filter(({ path }) => existsSync(path));
  return [...readmes, ...docs];
}

export function allBlocks(): FencedBlock[] {
  return docFiles().flatMap(({ label, path }) => readBlocks(path, label));
}
