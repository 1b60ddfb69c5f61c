#!/usr/bin/env node
// @ts-check
// `node bench/tools/profile-summary.mjs <file.cpuprofile> [top] [windowMs]`: where a
// proxy-server spent its CPU, from a `--cpu-prof` profile (what `pnpm bench --profile` writes).
// Prints the busy share, self time by package or area, the top functions by self time and, with
// a window, how busy the process was in each window of the run, so the cause of a missed target
// can be quoted in docs/benchmarks.md without opening DevTools.
import { readFileSync } from 'node:fs';
import { busyTimeline, inclusiveAppTime, summarizeProfile } from '../src/profile.mjs';

const [file, top = '25', windowMs] = process.argv.slice(2);
if (!file) {
  process.stderr.write(
    'usage: node bench/tools/profile-summary.mjs <file.cpuprofile> [top] [windowMs]\n',
  );
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const summary = summarizeProfile(profile, Number(top));
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
if (windowMs) {
  console.log(`\nbusy per ${windowMs} ms window (GC share in brackets):`);
  for (const w of busyTimeline(profile, Number(windowMs))) {
    console.log(
      `${String(w.startMs).padStart(8)} ms ${w.busyPct.toFixed(0).padStart(4)}% (${w.gcPct.toFixed(0)}%)`,
    );
  }
}
