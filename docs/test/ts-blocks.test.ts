import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './support/doc-environment.js';
import { docFiles } from './support/doc-files.js';
import { type FencedBlock, readBlocks } from './support/markdown-blocks.js';

// Every `ts` block of the docs and of the packages' READMEs type-checks against the built
// packages, as a reader's strict project would check it. Blocks are snippets: they use `client`
// and `taskId` from the page's first example, so each block gets ambient declarations of the
// names it uses but does not define.

const TS_LANGS = new Set(['ts', 'typescript']);

// The packages' READMEs travel with the packages, so readers copy from them as much as from docs/.
const packageReadmes = readdirSync(join(repoRoot, 'packages'))
  .sort()
  .map((name) => `packages/${name}/README.md`)
  .filter((label) => existsSync(join(repoRoot, label)))
  .map((label) => ({ label, path: join(repoRoot, label) }));

const pages = [...docFiles(), ...packageReadmes]
  .map(({ label, path }) => ({
    label,
    path,
    blocks: readBlocks(path, label).filter((block) => TS_LANGS.has(block.lang)),
  }))
  .filter((page) => page.blocks.length > 0);

/** What the snippets take from earlier blocks, typed as the SDK declares it. */
const PREAMBLE: Record<string, string> = {
  client: `declare const client: import('proxy-client').ProxyClient;`,
  taskId: 'declare const taskId: string;',
};

const OPTIONS: ts.CompilerOptions = {
  // As strict as this repository's own code: a block holds in a project set up that carefully.
  strict: true,
  noUncheckedIndexedAccess: true,
  verbatimModuleSyntax: true,
  target: ts.ScriptTarget.ES2022,
  // The SDK is for browsers too, and the recipes use DOM types (a cancel button).
  lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  // Each block is its own module, so two blocks may both declare `task`.
  moduleDetection: ts.ModuleDetectionKind.Force,
  types: ['node'],
  typeRoots: [join(repoRoot, 'node_modules', '@types')],
  skipLibCheck: true,
  noEmit: true,
};

/** Names a block binds at its top level: the preamble must not declare them a second time. */
function declaredNames(source: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  const bind = (name: ts.BindingName): void => {
    if (ts.isIdentifier(name)) {
      names.add(name.text);
      return;
    }
    for (const element of name.elements) {
      if (ts.isBindingElement(element)) bind(element.name);
    }
  };
  for (const statement of source.statements) {
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) bind(declaration.name);
    } else if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      if (clause?.name) names.add(clause.name.text);
      const bindings = clause?.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) names.add(bindings.name.text);
      else for (const element of bindings?.elements ?? []) names.add(element.name.text);
    } else if (
      (ts.isFunctionDeclaration(statement) ||
        ts.isClassDeclaration(statement) ||
        ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) ||
        ts.isEnumDeclaration(statement)) &&
      statement.name
    ) {
      names.add(statement.name.text);
    }
  }
  return names;
}

function usedNames(source: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  const visit = (node: ts.Node) => {
    if (ts.isIdentifier(node)) names.add(node.text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return names;
}

/** A block's module: the preamble lines it needs, then the block. */
function moduleText(block: FencedBlock): { text: string; preambleLines: number } {
  const source = ts.createSourceFile('block.mts', block.text, ts.ScriptTarget.ES2022);
  const declared = declaredNames(source);
  const used = usedNames(source);
  const preamble = Object.entries(PREAMBLE)
    .filter(([name]) => used.has(name) && !declared.has(name))
    .map(([, declaration]) => declaration);
  return { text: [...preamble, block.text].join('\n'), preambleLines: preamble.length };
}

interface CompiledBlock {
  page: string;
  block: FencedBlock;
  /** Beside the Markdown file, so imports resolve as from that spot of the repository. */
  fileName: string;
  text: string;
  preambleLines: number;
}

const compiled: CompiledBlock[] = pages.flatMap(({ label, path, blocks }) =>
  blocks.map((block) => ({
    page: label,
    block,
    fileName: join(dirname(path), `${label.replace(/\W/g, '_')}.block-${block.line}.mts`),
    ...moduleText(block),
  })),
);

let program: ts.Program;
beforeAll(() => {
  // One program for every block: the lib and the SDK's declarations are read and checked once.
  const virtual = new Map(compiled.map((entry) => [entry.fileName, entry.text]));
  const host = ts.createCompilerHost(OPTIONS, true);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (fileName) => virtual.has(fileName) || fileExists.call(host, fileName);
  host.readFile = (fileName) => virtual.get(fileName) ?? readFile.call(host, fileName);
  host.getSourceFile = (fileName, languageVersion, ...rest) => {
    const text = virtual.get(fileName);
    return text === undefined
      ? getSourceFile.call(host, fileName, languageVersion, ...rest)
      : ts.createSourceFile(fileName, text, languageVersion, true);
  };
  program = ts.createProgram({ rootNames: [...virtual.keys()], options: OPTIONS, host });
});

/** Each diagnostic of a block as `file:line: TSnnnn message`, at its line in the Markdown. */
function diagnosticsOf({ page, block, fileName, preambleLines }: CompiledBlock): string[] {
  const source = program.getSourceFile(fileName);
  if (!source) throw new Error(`${fileName} is not in the program`);
  return [
    ...program.getSyntacticDiagnostics(source),
    ...program.getSemanticDiagnostics(source),
  ].map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const line = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line - preambleLines;
    const where =
      line < 0 ? `${page}:${block.line} (preamble)` : `${page}:${block.line + 1 + line}`;
    return `${where}: TS${diagnostic.code} ${message}`;
  });
}

it('finds ts blocks in the SDK docs', () => {
  expect(pages.map((page) => page.label)).toEqual(
    expect.arrayContaining(['README.md', 'docs/sdk.md', 'packages/proxy-client/README.md']),
  );
  expect(compiled.length).toBeGreaterThan(30);
});

it('compiles under options TypeScript accepts', () => {
  const problems = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
  expect(problems.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
});

for (const page of pages) {
  describe(page.label, () => {
    for (const entry of compiled.filter((each) => each.page === page.label)) {
      const { block } = entry;
      it(`block at line ${block.line} type-checks`, () => {
        expect(diagnosticsOf(entry), `block at ${page.label}:${block.line}`).toEqual([]);
      });
    }
  });
}
