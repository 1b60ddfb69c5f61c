import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/doc-environment.js';
import { docFiles } from './support/doc-files.js';
import { fencedBlocks } from './support/markdown-blocks.js';
import { logicalLines } from './support/shell-words.js';

// The packages are not on the registry under these names, so readers install them from packed
// tarballs. Those commands are not run by the doc check (they would install into the reader's
// project), so their two known traps are checked here: a tarball that depends on proxy-client
// installed without proxy-client's beside it (npm then asks the registry, where the name is
// someone else's), and a pack or build step that needs pnpm when the docs promise Node and npm.

const packageReadmes = readdirSync(join(repoRoot, 'packages'))
  .sort()
  .map((name) => `packages/${name}/README.md`)
  .filter((label) => existsSync(join(repoRoot, label)))
  .map((label) => ({ label, path: join(repoRoot, label) }));

const pages = [...docFiles(), ...packageReadmes].map(({ label, path }) => {
  const markdown = readFileSync(path, 'utf8');
  return { label, markdown, blocks: fencedBlocks(markdown, label) };
});

interface Command {
  where: string;
  text: string;
}

/** Every command line of a shell block, and every inline code span that holds a command. */
function commands(): Command[] {
  return pages.flatMap(({ label, markdown, blocks }) => {
    const inBlocks = blocks
      .filter((block) => ['sh', 'bash', 'shell', 'ini'].includes(block.lang))
      .flatMap((block) =>
        logicalLines(block.text).map((text) => ({ where: `${label}:${block.line}`, text })),
      );
    // Fences removed first, so a block's backticks do not pair with a span's.
    const prose = markdown.replace(/^ {0,3}```[\s\S]*?^ {0,3}```/gm, '');
    const spans = [...prose.matchAll(/`([^`]+)`/g)].map((match) => ({
      where: `${label} (inline)`,
      text: (match[1] ?? '').replace(/\s+/g, ' '),
    }));
    return [...inBlocks, ...spans];
  });
}

const tarballInstalls = () =>
  commands().filter(({ text }) => /\bnpm (?:i|install)\b[^|;&]*\.tgz/.test(text));

describe('tarball install commands', () => {
  it('finds the README and operations commands', () => {
    const where = tarballInstalls().map((c) => c.where);
    expect(where).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^README\.md:\d+$/),
        'docs/operations.md (inline)',
      ]),
    );
  });

  it('install proxy-client with any package that depends on it, in the same command', () => {
    const lone = tarballInstalls()
      .filter(({ text }) => /proxy-(?:server|cli)-[\d.]+\.tgz/.test(text))
      .filter(({ text }) => !/proxy-client-[\d.]+\.tgz/.test(text))
      .map(({ where, text }) => `${where}: ${text}`);
    expect(lone).toEqual([]);
  });
});

describe('pack and build commands', () => {
  const pin = /^pnpm@(.+)$/.exec(
    JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).packageManager,
  )?.[1];

  const packing = () => commands().filter(({ text }) => /\bpack\b.*--pack-destination/.test(text));

  it('finds the pack commands of the READMEs and docs/sdk.md', () => {
    const files = new Set(packing().map((c) => c.where.split(':')[0]));
    expect([...files]).toEqual(
      expect.arrayContaining([
        'README.md',
        'docs/sdk.md',
        'packages/proxy-cli/README.md',
        'packages/proxy-client/README.md',
        'packages/proxy-server/README.md',
      ]),
    );
  });

  it('need nothing but Node and npm: no bare pnpm where readers install the packages', () => {
    const installBlocks = pages.flatMap(({ label, blocks }) =>
      blocks
        .filter((block) => /--pack-destination|\bnpm (?:i|install)\b[^\n]*\.tgz/.test(block.text))
        .flatMap((block) =>
          logicalLines(block.text).map((text) => ({ where: `${label}:${block.line}`, text })),
        ),
    );
    expect(installBlocks.length).toBeGreaterThan(4);
    const bare = installBlocks
      .filter(({ text }) => /(?:^|[;&|]\s*)pnpm\b/.test(text))
      .map(({ where, text }) => `${where}: ${text}`);
    expect(bare).toEqual([]);
  });

  it('fetch the pnpm that package.json pins', () => {
    expect(pin).toBeDefined();
    const other = commands()
      .flatMap(({ where, text }) =>
        [...text.matchAll(/\bpnpm@([\w.-]+)/g)].map((match) => ({ where, version: match[1] })),
      )
      .filter(({ version }) => version !== pin)
      .map(({ where, version }) => `${where}: pnpm@${version}`);
    expect(other).toEqual([]);
  });
});
