import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { repoRoot } from './support/doc-environment.js';

// CI failed (exit 1) with its last line `tests: 6462 passed, 0 failed`: an uncaught EPIPE after
// the tests had passed failed the run, and vitest's JSON report, which the line was counted
// from, has no place for such an error. The summary now counts and shows it.

const FIXTURES: Record<string, string> = {
  'passes.test.mjs': "import { it } from 'vitest';\nit('passes', () => {});\n",
  'fails.test.mjs':
    "import { expect, it } from 'vitest';\nit('compares', () => expect(1).toBe(2));\n",
  'leaves-an-error.test.mjs':
    "import { it } from 'vitest';\nit('passes, and leaves an error behind', async () => {\n" +
    "  setTimeout(() => { throw new Error('thrown after the test'); });\n" +
    '  await new Promise((resolve) => setTimeout(resolve, 50));\n});\n',
  'does-not-load.test.mjs': "import { it } from 'vitest';\nthrow new Error('at load');\n",
};

/** A results dir as .ci/run leaves it: a real vitest run of `files`, as `run`, report and output. */
function resultsOf(runs: Record<string, string[]>, { keepOutput = true } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'ci-summary-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const results = join(dir, 'results');
  mkdirSync(results);
  for (const [run, files] of Object.entries(runs)) {
    const root = join(dir, run);
    mkdirSync(root);
    for (const file of files) writeFileSync(join(root, file), FIXTURES[file] ?? '');
    const vitest = spawnSync(
      process.execPath,
      [
        join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs'),
        'run',
        '--root',
        root,
        '--reporter=default',
        '--reporter=json',
        `--outputFile.json=${join(results, `node-${run}.json`)}`,
      ],
      { cwd: root, env: outsideVitest(), encoding: 'utf8', timeout: 30_000 },
    );
    if (keepOutput) writeFileSync(join(results, `node-${run}.log`), vitest.stdout + vitest.stderr);
    writeFileSync(join(results, `node-${run}.exit`), `${vitest.status}\n`);
  }
  return results;
}

/** This process's environment less what marks it as vitest's, which the run inside would take. */
function outsideVitest(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(VITEST|TINYPOOL)|^NODE_OPTIONS$/.test(name)),
  );
}

function summary(results: string) {
  const result = spawnSync(
    process.execPath,
    [join(repoRoot, 'scripts', 'ci-summary.mjs'), results],
    {
      encoding: 'utf8',
      timeout: 10_000,
    },
  );
  expect(result.stderr).toBe('');
  return result.stdout;
}

it('every run passed: one line, counted over both Nodes', () => {
  const results = resultsOf({ '20': ['passes.test.mjs'], '24': ['passes.test.mjs'] });
  expect(summary(results)).toBe('tests: 2 passed, 0 failed\n');
});

it('a failed test and a file that does not load: each named on the run it failed, then counted', () => {
  const results = resultsOf({
    '24': ['passes.test.mjs', 'fails.test.mjs', 'does-not-load.test.mjs'],
  });
  const lines = summary(results).split('\n');
  expect(lines).toContainEqual(
    expect.stringMatching(/^failed on 24: .*fails\.test\.mjs > compares$/),
  );
  expect(lines).toContainEqual(expect.stringMatching(/^ {2}AssertionError: expected 1 to be 2/));
  expect(lines).toContainEqual(
    expect.stringMatching(/^failed on 24: .*does-not-load\.test\.mjs > \(the file\)$/),
  );
  expect(lines).toContainEqual(expect.stringContaining('at load'));
  expect(lines.at(-2)).toBe('tests: 1 passed, 2 failed');
});

it('an error caught outside any test, every test passing: counted, with the error and its file', () => {
  const results = resultsOf({ '20': ['passes.test.mjs', 'leaves-an-error.test.mjs'] });
  const out = summary(results);
  expect(out).toMatch(/^failed on 20: Vitest caught 1 unhandled error during the test run\.\n/);
  expect(out).toContain('Error: thrown after the test');
  expect(out).toContain('This error originated in "leaves-an-error.test.mjs" test file.');
  expect(out.endsWith('tests: 2 passed, 1 failed\n')).toBe(true);
});

it('a run where no test ran: named, and counted as a failure', () => {
  const results = resultsOf({ '20': ['passes.test.mjs'], '24': [] });
  expect(summary(results)).toBe('failed on 24: no test ran\ntests: 1 passed, 1 failed\n');
});

it('without the run’s output kept, its exit status still fails it', () => {
  const results = resultsOf({ '20': ['leaves-an-error.test.mjs'] }, { keepOutput: false });
  expect(summary(results)).toBe(
    'failed on 20: the run failed (exit 1), naming no test: its output above says why\n' +
      'tests: 1 passed, 1 failed\n',
  );
});

it('a file that fails to load, alone in its run: one failure, named once', () => {
  const results = resultsOf({ '20': ['does-not-load.test.mjs'] });
  const out = summary(results);
  expect(out).toMatch(/^failed on 20: .*does-not-load\.test\.mjs > \(the file\)\n/);
  expect(out).not.toContain('no test ran');
  expect(out.endsWith('tests: 0 passed, 1 failed\n')).toBe(true);
});

it('a run that ended before writing its report, or wrote half of it: a failure each', () => {
  const results = resultsOf({ '20': ['passes.test.mjs'] });
  writeFileSync(join(results, 'node-24.log'), 'Segmentation fault\n');
  writeFileSync(join(results, 'node-24.exit'), '139\n');
  writeFileSync(join(results, 'node-26.json'), '{"numPassedTests": 3, "testRes');
  expect(summary(results).split('\n')).toEqual([
    'failed on 24: no report: the run ended before writing it (the run exited 139)',
    expect.stringMatching(/^failed on 26: its report cannot be read \(.*JSON.*\)$/),
    'tests: 1 passed, 2 failed',
    '',
  ]);
});

it('vitest’s line quoted in a test’s output is not taken for vitest’s own', () => {
  const results = resultsOf({ '20': ['passes.test.mjs'] });
  const log = join(results, 'node-20.log');
  writeFileSync(
    log,
    `  expected 'Vitest caught 3 unhandled errors during the test run.'\n${readFileSync(log, 'utf8')}`,
  );
  expect(summary(results)).toBe('tests: 1 passed, 0 failed\n');
});

it('without a dir: usage on stderr, exit 2', () => {
  const result = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'ci-summary.mjs')], {
    encoding: 'utf8',
  });
  expect(result.status).toBe(2);
  expect(result.stderr).toBe('usage: node scripts/ci-summary.mjs <dir of node-*.json reports>\n');
});
