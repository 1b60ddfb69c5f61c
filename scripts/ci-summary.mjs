#!/usr/bin/env node
// The end of CI's log: each failure named again, where whoever reads only the tail will see it,
// then one line `tests: N passed, N failed` over every run's vitest JSON report in the given dir
// (node-*.json), with the run's output beside it (node-*.log) when it was kept.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: node scripts/ci-summary.mjs <dir of node-*.json reports>\n');
  process.exit(2);
}

let passed = 0;
let failed = 0;
const reports = readdirSync(dir).filter((f) => f.startsWith('node-') && f.endsWith('.json'));
for (const name of reports.sort()) {
  const run = name.slice('node-'.length, -'.json'.length);
  const report = JSON.parse(readFileSync(join(dir, name), 'utf8'));
  passed += report.numPassedTests;
  let named = 0;
  for (const file of report.testResults) {
    const failures = file.assertionResults.filter((t) => t.status === 'failed');
    // A file that fails to load fails no test: it counts as one failure.
    if (failures.length === 0 && file.status === 'failed') {
      failures.push({ fullName: '(the file)', failureMessages: [file.message] });
      failed += 1;
    }
    named += failures.length;
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
  failed += report.numFailedTests;
  // An empty run, or one its report calls failed with nothing named, is a failure too.
  if (report.numTotalTests === 0 || (!report.success && named === 0)) {
    console.log(`failed on ${run}: ${report.numTotalTests === 0 ? 'no test ran' : 'the run'}`);
    failed += 1;
  }
  failed += caughtOutsideTests(run, join(dir, name.replace(/\.json$/, '.log')));
}
console.log(`tests: ${passed} passed, ${failed} failed`);

/**
 * Errors vitest caught outside any test (an uncaught exception, an unhandled rejection) fail its
 * run, exit 1, but no test in its JSON report: counted from its output, and shown.
 */
function caughtOutsideTests(run, log) {
  if (!existsSync(log)) return 0;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the colours' escapes are what it strips
  const output = readFileSync(log, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
  const caught = /Vitest caught (\d+) unhandled errors? during the test run/.exec(output);
  if (!caught) return 0;
  const lines = output.slice(caught.index).split('\n');
  const end = lines.findIndex((line) => /^\s*Test Files /.test(line));
  const shown = lines.slice(1, end > 0 ? Math.min(end, 30) : 30);
  console.log(`failed on ${run}: ${caught[0]}\n  ${shown.join('\n  ').trimEnd()}`);
  return Number(caught[1]);
}
