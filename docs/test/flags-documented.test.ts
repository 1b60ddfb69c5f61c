import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './support/doc-environment.js';
import { allBlocks } from './support/doc-files.js';
import {
  cliHelp,
  envVarsIn,
  flagsIn,
  type HelpText,
  mentionsFlag,
  serverHelp,
} from './support/help-text.js';
import { logicalLines } from './support/shell-words.js';

// The docs and the bins' --help must name the same flags, in both directions: a flag added to
// a bin needs a line in the docs, and a flag the docs use must exist.
const read = (relative: string) => readFileSync(join(repoRoot, relative), 'utf8');

let server: HelpText;
let cli: HelpText;
beforeAll(async () => {
  [server, cli] = await Promise.all([serverHelp(), cliHelp()]);
});

/** The flags written after `bin` on any command line of any fenced block, with where. */
function flagsUsedWith(bin: string): Array<{ flag: string; where: string }> {
  const after = new RegExp(`(?:^|[\\s/=(])${bin}(?=\\s|$)([^|;&)]*)`, 'g');
  return allBlocks().flatMap((block) =>
    logicalLines(block.text).flatMap((line) =>
      [...line.matchAll(after)].flatMap((match) =>
        flagsIn((match[1] ?? '').replace(/#.*$/, '')).map((flag) => ({
          flag,
          where: `${block.file}:${block.line}`,
        })),
      ),
    ),
  );
}

describe('docs/configuration.md', () => {
  it('names every flag that proxy-server --help prints', () => {
    const doc = read('docs/configuration.md');
    expect(server.flags.length).toBeGreaterThan(5);
    expect(server.flags.filter((flag) => !mentionsFlag(doc, flag))).toEqual([]);
  });

  it('names every environment variable that proxy-server --help prints', () => {
    const doc = read('docs/configuration.md');
    expect(server.envVars.length).toBeGreaterThan(5);
    expect(server.envVars.filter((name) => !doc.includes(name))).toEqual([]);
  });
});

describe('docs/cli.md', () => {
  it('names every flag that proxy-cli --help prints', () => {
    const doc = read('docs/cli.md');
    expect(cli.flags.length).toBeGreaterThan(3);
    expect(cli.flags.filter((flag) => !mentionsFlag(doc, flag))).toEqual([]);
  });
});

describe('command lines in README.md and docs/*.md', () => {
  it('use only flags that proxy-server --help knows', () => {
    const used = flagsUsedWith('proxy-server');
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter(({ flag }) => !server.flags.includes(flag))).toEqual([]);
  });

  it('use only flags that proxy-cli --help knows', () => {
    const used = flagsUsedWith('proxy-cli');
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter(({ flag }) => !cli.flags.includes(flag))).toEqual([]);
  });

  it('name only PROXY_* variables that a bin reads', () => {
    const known = new Set([...server.envVars, ...cli.envVars]);
    const unknown = allBlocks().flatMap((block) =>
      envVarsIn(block.text)
        .filter((name) => !known.has(name))
        .map((name) => `${name} at ${block.file}:${block.line}`),
    );
    expect(unknown).toEqual([]);
  });
});
