#!/usr/bin/env node
// @ts-check
// `pnpm bench [--quick] [--out FILE]`: runs every scenario one at a time against real
// processes, prints the report, writes it as JSON, and in full mode rewrites the results section
// of docs/benchmarks.md. Exits 0 when every scenario ran (whatever the figures), 1 when one
// crashed, 2 on bad usage.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { proxyServerBin } from 'test-support';
import { parseBenchArgs, USAGE, UsageError } from './src/args.mjs';
import { hasTaskset, pinDriver, planPlacement } from './src/cpu-placement.mjs';
import { replaceResultsSection } from './src/docs-section.mjs';
import { describeMachine } from './src/machine.mjs';
import { placeServers } from './src/processes.mjs';
import { renderReport } from './src/report-table.mjs';
import { proxyServerRevision } from './src/revision.mjs';
import { runScenario } from './src/run-scenario.mjs';
import { scenarios } from './src/scenarios/index.mjs';

const benchDir = dirname(fileURLToPath(import.meta.url));
const docPath = join(benchDir, '..', 'docs', 'benchmarks.md');
const argv = process.argv.slice(2);
/** @param {string} message */
const log = (message) => process.stderr.write(`[bench] ${message}\n`);

// Ctrl-C must still run the exit handlers that stop the servers this run started.
process.once('SIGINT', () => process.exit(130));

let options;
try {
  options = parseBenchArgs(
    argv,
    scenarios.map((s) => s.id),
  );
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`bench: ${err.message}\n${USAGE}\n`);
  process.exit(2);
}
if (options.help) {
  process.stdout.write(`${USAGE}\n\nscenarios: ${scenarios.map((s) => s.id).join(', ')}\n`);
  process.exit(0);
}
if (!existsSync(proxyServerBin)) {
  process.stderr.write(
    `bench: ${proxyServerBin} is missing; build it first (pnpm --filter proxy-server build)\n`,
  );
  process.exit(1);
}

const cores = availableParallelism();
const placement = options.pin ? planPlacement(cores, hasTaskset()) : null;
if (placement) {
  pinDriver(placement);
  placeServers(placement);
}
const machine = describeMachine(cores, placement);

const mode = options.quick ? 'quick' : 'full';
const outPath = options.out
  ? resolve(options.out)
  : options.quick
    ? undefined
    : join(benchDir, 'results', 'latest.json');
let profileDir;
if (options.profile) {
  profileDir = join(
    benchDir,
    'results',
    'profiles',
    new Date().toISOString().replace(/[:.]/g, '-'),
  );
  await mkdir(profileDir, { recursive: true });
  log(`CPU profiles of the Node servers go to ${profileDir}`);
}
const ctx = { quick: options.quick, profileDir, log };
const selected = options.only ? scenarios.filter((s) => options.only?.includes(s.id)) : scenarios;

const date = new Date().toISOString();
const revision = proxyServerRevision(join(benchDir, '..'));
const startedAt = Date.now();
/** @type {import('./src/report-table.mjs').ScenarioResult[]} */
const results = [];
for (const scenario of selected) {
  log(`${scenario.title}`);
  results.push(await runScenario(scenario, ctx, options.runs));
}

/** @type {import('./src/report-table.mjs').BenchReport} */
const report = {
  version: 1,
  mode,
  date,
  command: `${process.env.npm_lifecycle_event === 'bench' ? 'pnpm bench' : 'node bench/run.mjs'}${
    argv.length > 0 ? ` ${argv.join(' ')}` : ''
  }`,
  revision,
  machine,
  scenarios: results,
};
const markdown = renderReport(report);
process.stdout.write(`${markdown}\n`);

if (outPath) {
  await mkdir(dirname(outPath), { recursive: true });
  await writeFile(outPath, `${JSON.stringify(report, null, 2)}\n`);
  log(`results written to ${outPath}`);
}
// Only a complete full run speaks for the project in the docs.
if (mode === 'full' && !options.only) {
  const doc = existsSync(docPath) ? await readFile(docPath, 'utf8') : '';
  await writeFile(docPath, replaceResultsSection(doc, markdown));
  log(`results section of ${docPath} rewritten`);
}

const crashed = results.filter((r) => r.status === 'crashed');
log(
  `${results.length - crashed.length} of ${results.length} scenarios ran in ${Math.round(
    (Date.now() - startedAt) / 1000,
  )} s${crashed.length > 0 ? `; crashed: ${crashed.map((r) => r.id).join(', ')}` : ''}`,
);
process.exit(crashed.length > 0 ? 1 : 0);
