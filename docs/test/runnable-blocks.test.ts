import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun } from '../../examples/test/support/run-process.js';
import { BlockSession } from './support/block-session.js';
import {
  DOCS_API_KEY,
  type DocEnvironment,
  docsPath,
  repoRoot,
  startDocEnvironment,
} from './support/doc-environment.js';
import { docFiles } from './support/doc-files.js';
import { missingExpectedLine } from './support/expected-output.js';
import {
  type FencedBlock,
  isExpectedOutput,
  isRunnable,
  readBlocks,
} from './support/markdown-blocks.js';

// Every `sh runnable` block of README.md and docs/*.md runs against a real proxy in front of
// slow-target; the blocks of one page share shell variables, in page order. A `text expected`
// block right after a runnable one lists lines its output must show.
interface RunnableBlock {
  block: FencedBlock;
  expected: FencedBlock | undefined;
}

const pages = docFiles()
  .map(({ label, path }) => {
    const all = readBlocks(path, label);
    const blocks: RunnableBlock[] = all.flatMap((block, i) => {
      const next = all[i + 1];
      return isRunnable(block)
        ? [{ block, expected: isExpectedOutput(next) ? next : undefined }]
        : [];
    });
    return { label, blocks };
  })
  .filter((page) => page.blocks.length > 0);

let env: DocEnvironment;
beforeAll(async () => {
  env = await startDocEnvironment();
});
afterAll(async () => {
  await env?.close();
});

it('finds runnable blocks in the docs', () => {
  expect(pages.map((p) => p.label)).toEqual(
    expect.arrayContaining(['docs/getting-started.md', 'docs/http-api.md']),
  );
});

it('has every `text expected` block right after a runnable block', () => {
  const stray = docFiles().flatMap(({ label, path }) => {
    const all = readBlocks(path, label);
    return all
      .filter((block, i) => {
        const before = all[i - 1];
        return isExpectedOutput(block) && !(before && isRunnable(before));
      })
      .map((block) => `${block.file}:${block.line}`);
  });
  expect(stray).toEqual([]);
});

for (const page of pages) {
  describe(page.label, () => {
    let session: BlockSession;
    beforeAll(() => {
      session = new BlockSession(repoRoot, {
        PATH: docsPath,
        PROXY_URL: env.proxy.url,
        TARGET_PORT: String(env.target.port),
        NO_COLOR: '1',
      });
    });
    afterAll(() => session?.close());

    for (const { block, expected } of page.blocks) {
      // `api-key`: the block shows authentication, so it runs against a proxy that requires
      // a key, with the key in PROXY_API_KEY as the docs tell readers to keep it.
      const keyed = block.attributes.includes('api-key');
      it(`block at line ${block.line} exits 0${keyed ? ' (proxy with --api-key)' : ''}`, async () => {
        const extra: Record<string, string> = keyed
          ? { PROXY_URL: (await env.keyedProxy()).url, PROXY_API_KEY: DOCS_API_KEY }
          : {};
        const result = await session.run(block, extra);
        const where = `${page.label}:${block.line}`;
        expect(result.code, describeRun(where, result)).toBe(0);
        if (expected) {
          const missing = missingExpectedLine(result.stdout, expected.text);
          const why = `${where}: no output line matches "${missing}" (block at line ${expected.line})`;
          expect(missing, `${why}\n--- output\n${result.stdout}`).toBeUndefined();
        }
      });
    }
  });
}
