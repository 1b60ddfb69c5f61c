// @ts-check
// argv → options for bench/run.mjs. Pure, so the table of accepted and refused command lines is
// tested without starting anything.
import { parseArgs } from 'node:util';

export const USAGE = `usage: pnpm bench [--quick] [--out FILE] [--runs N] [--only ID[,ID...]] [--profile] [--no-pin]

  --quick        every scenario small, one run each, in about 3 minutes (what CI runs)
  --out FILE     write the JSON results there (default in full mode: bench/results/latest.json)
  --runs N       runs per scenario (default: 3, or 1 with --quick)
  --only IDS     run only these scenarios (comma-separated ids, see below)
  --profile      start every proxy-server (and the bare Fastify baselines) with --cpu-prof;
                 profiles go to bench/results/profiles/<date>/<server>-<time>.cpuprofile
  --no-pin       let the OS place the driver and the servers (default: driver on CPU 0, servers
                 on the other CPUs, with taskset)
  -h, --help     this text

A full run (no --quick) also rewrites the results section of docs/benchmarks.md.`;

/**
 * @typedef {object} BenchOptions
 * @property {boolean} quick
 * @property {string | undefined} out
 * @property {number} runs
 * @property {string[] | undefined} only
 * @property {boolean} profile
 * @property {boolean} pin
 * @property {boolean} help
 */

export class UsageError extends Error {
  /** @override */
  name = 'UsageError';
}

/**
 * @param {readonly string[]} argv the arguments after the script name
 * @param {readonly string[]} scenarioIds the ids `--only` may name
 * @returns {BenchOptions}
 */
export function parseBenchArgs(argv, scenarioIds) {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        quick: { type: 'boolean', default: false },
        out: { type: 'string' },
        runs: { type: 'string' },
        only: { type: 'string' },
        profile: { type: 'boolean', default: false },
        'no-pin': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }

  const quick = values.quick ?? false;
  let runs = quick ? 1 : 3;
  if (values.runs !== undefined) {
    if (!/^[1-9]\d*$/.test(values.runs)) {
      throw new UsageError(`--runs must be a whole number of at least 1, got '${values.runs}'`);
    }
    runs = Number(values.runs);
  }
  if (values.out !== undefined && values.out.trim() === '') {
    throw new UsageError('--out needs a file path');
  }

  let only;
  if (values.only !== undefined) {
    only = values.only
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean);
    const unknown = only.filter((id) => !scenarioIds.includes(id));
    if (only.length === 0 || unknown.length > 0) {
      throw new UsageError(
        `--only: unknown scenario '${unknown.join(',') || values.only}' (known: ${scenarioIds.join(', ')})`,
      );
    }
  }

  return {
    quick,
    out: values.out,
    runs,
    only,
    profile: values.profile ?? false,
    pin: !values['no-pin'],
    help: values.help ?? false,
  };
}
