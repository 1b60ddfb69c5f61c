#!/usr/bin/env node
// The end of CI's log: each failure named again, where whoever reads only the tail will see it,
// then one line `tests: N passed, N failed`. A run `<name>` of the suite leaves in the given dir
// its vitest JSON report (node-<name>.json), its output (node-<name>.log) and its exit status
// (node-<name>.exit); any of them may be missing, and a missing report is a failure.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: node scripts/ci-summary.mjs <dir of node-*.json reports>\n');
  process.exit(2);
}

const runs = new Set(
  readdirSync(dir)
    .map((f) => /^node-(.+)\.(?:json|log|exit)$/.exec(f)?.[1])
    .filter((run) => run !== undefined),
);
let passed = 0;
let failed = 0;
for (const run of [...runs].sort()) {
  const counted = summarize(run);
  passed += counted.passed;
  failed += counted.failed;
}
console.log(`tests: ${passed} passed, ${failed} failed`);

function summarize(run) {
  const path = (ext) => join(dir, `node-${run}.${ext}`);
  const exit = existsSync(path('exit')) ? Number(readFileSync(path('exit'), 'utf8')) : 0;
  const report = reportOf(path('json'));
  if (typeof report === 'string') {
    console.log(`failed on ${run}: ${report}${exit ? ` (the run exited ${exit})` : ''}`);
    return { passed: 0, failed: 1 };
  }
  let failed = 0;
  for (const file of report.testResults) {
    const failures = file.assertionResults.filter((t) => t.status === 'failed');
    // A file that fails to load fails no test: it counts as one failure.
    if (failures.length === 0 && file.status === 'failed') {
      failures.push({ fullName: '(the file)', failureMessages: [file.message] });
      failed += 1;
    }
    for (const test of failures) {
      const first = String(test.failureMessages?.[0] ?? '')
        .split('\n')
        .slice(0, 3)
        .join(' | ')
        .slice(0, 600);
      console.log(
        `failed on ${run}: ${relative(process.cwd(), file.name)} > ${test.fullName}\n  ${first}`,
      );
    }
  }
  failed += report.numFailedTests + caughtOutsideTests(run, path('log'));
  // Nothing named, yet the run did not pass: an empty run, or a failure this cannot read.
  const why =
    report.numTotalTests === 0
      ? 'no test ran'
      : !report.success || exit !== 0
        ? `the run failed (exit ${exit}), naming no test: its output above says why`
        : undefined;
  if (failed === 0 && why) {
    console.log(`failed on ${run}: ${why}`);
    failed = 1;
  }
  return { passed: report.numPassedTests, failed };
}

/** The run's JSON report, or why there is none to read. */
function reportOf(path) {
  if (!existsSync(path)) return 'no report: the run ended before writing it';
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    return `its report cannot be read (${error.message})`;
  }
}

/**
 * Errors vitest caught outside any test (an uncaught exception, an unhandled rejection) fail its
 * run, exit 1, but no test in its JSON report: counted from its output, and shown.
 */
function caughtOutsideTests(run, log) {
  if (!existsSync(log)) return 0;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the colours' escapes are what it strips
  const output = readFileSync(log, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
  // Vitest's own line, at the end: a test's output or failure may quote it before.
  const caught = [
    ...output.matchAll(/^Vitest caught (\d+) unhandled errors? during the test run\.$/gm),
  ].at(-1);
  if (!caught) return 0;
  const lines = output.slice(caught.index).split('\n');
  const end = lines.findIndex((line) => /^\s*Test Files /.test(line));
  const shown = lines.slice(1, end > 0 ? Math.min(end, 30) : 30);
  console.log(`failed on ${run}: ${caught[0]}\n  ${shown.join('\n  ').trimEnd()}`);
  return Number(caught[1]);
}
