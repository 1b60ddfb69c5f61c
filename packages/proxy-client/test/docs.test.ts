import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import * as sdk from '../src/index.js';

/**
 * docs/sdk.md, and the package README that stands in for it where the package is installed,
 * must each name everything the SDK exports, and their TypeScript must compile.
 */
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const DOCS = [
  { label: 'docs/sdk.md', path: join(packageDir, '..', '..', 'docs', 'sdk.md'), minBlocks: 10 },
  { label: 'README.md', path: join(packageDir, 'README.md'), minBlocks: 4 },
];

describe.each(DOCS)('$label', ({ path, minBlocks }) => {
  let doc: string;
  beforeAll(async () => {
    doc = await readFile(path, 'utf8');
  });

  const mentioned = (name: string) =>
    doc.includes(`\`${name}`) || doc.includes(`.${name}\``) || doc.includes(`${name}(`);

  it('names every runtime export and every ProxyClient method', () => {
    const methods = Object.getOwnPropertyNames(sdk.ProxyClient.prototype).filter(
      (name) => name !== 'constructor',
    );
    expect(methods.length).toBeGreaterThan(8);
    expect([...Object.keys(sdk), ...methods].filter((name) => !mentioned(name))).toEqual([]);
  });

  it('names every option of every options type', async () => {
    const source = await readFile(join(packageDir, 'src', 'options.ts'), 'utf8');
    const options = [...source.matchAll(/^ {2,4}(\w+)\??:/gm)].map((match) => match[1]!);
    expect(options.length).toBeGreaterThan(15);
    expect(options.filter((name) => !mentioned(name))).toEqual([]);
  });

  it('has TypeScript examples that compile against the SDK', async () => {
    const blocks = [...doc.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
    expect(blocks.length).toBeGreaterThan(minBlocks);
    const dir = await mkdtemp(join(tmpdir(), 'sdk-doc-'));
    try {
      const files = await Promise.all(
        blocks.map(async (block, index) => {
          const file = `block-${index}.mts`;
          await writeFile(join(dir, file), withPrelude(block));
          return file;
        }),
      );
      await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig(files)));
      const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
      const result = await promisify(execFile)(process.execPath, [tsc, '-p', dir]).catch(
        (error: { stdout: string }) => error,
      );
      expect(result.stdout).toBe('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Blocks use `client` and `taskId` as a reader's code would have them; declare what is missing. */
function withPrelude(block: string): string {
  const lines = ["import type { ProxyClient as SdkClient } from 'proxy-client';"];
  if (!/\bconst client\b/.test(block)) lines.push('declare const client: SdkClient;');
  if (!/\bconst taskId\b/.test(block)) lines.push('declare const taskId: string;');
  return `${lines.join('\n')}\n${block}\nexport {};\n`;
}

function tsconfig(files: string[]) {
  const src = join(packageDir, 'src');
  return {
    compilerOptions: {
      strict: true,
      noEmit: true,
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'es2022',
      lib: ['es2023', 'dom'],
      types: [],
      skipLibCheck: true,
      paths: {
        'proxy-client': [join(src, 'index.ts')],
        'proxy-client/wire': [join(src, 'wire.ts')],
      },
    },
    files,
  };
}
