#!/usr/bin/env node
// @ts-check
// `node bench/tools/profile-summary.mjs <file.cpuprofile> [--top N] [--window MS] [--from MS]
// [--to MS]`: where a proxy-server spent its CPU, from a `--cpu-prof` profile (what
// `pnpm bench --profile` writes). Prints the busy share, self time by package or area, the top
// functions by self time, the proxy's own functions with their callees and, with --window, how
// busy the process was in each window, so the cause of a missed target can be quoted in
// docs/benchmarks.md without opening DevTools. --from/--to keep only that stretch of the run
// (milliseconds after the profile started), e.g. to leave out start-up and shutdown.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { busyTimeline, inclusiveAppTime, sliceProfile, summarizeProfile } from '../src/profile.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '25' },
    window: { type: 'string' },
    from: { type: 'string', default: '0' },
    to: { type: 'string', default: String(Number.POSITIVE_INFINITY) },
  },
});
const [file] = positionals;
if (!file) {
  process.stderr.write(
    'usage: node bench/tools/profile-summary.mjs <file.cpuprofile> [--top N] [--window MS] [--from MS] [--to MS]\n',
  );
  process.exit(2);
}
const whole = JSON.parse(readFileSync(file, 'utf8'));
const profile = sliceProfile(whole, Number(values.from), Number(values.to));
const summary = summarizeProfile(profile, Number(values.top));
const pct = (/** @type {number} */ part) => `${((part / summary.totalMs) * 100).toFixed(1)}%`;
const line = (/** @type {string} */ name, /** @type {number} */ ms) =>
  `${ms.toFixed(0).padStart(8)} ms ${pct(ms).padStart(6)}  ${name}`;

console.log(`profile: ${summary.totalMs.toFixed(0)} ms sampled, ${pct(summary.idleMs)} idle`);
console.log('\nself time by area:');
for (const [area, ms] of summary.byArea) console.log(line(area, ms));
console.log(`\ntop ${summary.topFunctions.length} functions by self time:`);
for (const f of summary.topFunctions) console.log(line(`${f.name} ${f.where}`, f.selfMs));
console.log("\nthe proxy's own functions, time including callees:");
for (const f of inclusiveAppTime(profile, 20)) console.log(line(`${f.name} ${f.where}`, f.totalMs));
if (values.window) {
  console.log(`\nbusy per ${values.window} ms window (GC share in brackets):`);
  for (const w of busyTimeline(whole, Number(values.window))) {
    const busy = w.busyPct.toFixed(0).padStart(4);
    console.log(`${String(w.startMs).padStart(8)} ms ${busy}% (${w.gcPct.toFixed(0)}%)`);
  }
}
