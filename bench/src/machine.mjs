// @ts-check
// What the figures were measured on: they mean little without it.
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';

/**
 * The CPU model from /proc/cpuinfo, falling back to what os.cpus() reports elsewhere.
 * @param {string} cpuinfo
 */
export function cpuModel(cpuinfo) {
  const match = /^model name\s*:\s*(.+)$/m.exec(cpuinfo);
  return match?.[1]?.trim() ?? null;
}

/**
 * @param {number} cores the CPUs the run could use, counted before the driver pinned itself
 * @param {import('./cpu-placement.mjs').Placement | null} placement
 * @returns {import('./report-table.mjs').Machine}
 */
export function describeMachine(cores, placement) {
  let cpu = null;
  try {
    cpu = cpuModel(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    // not Linux: os.cpus() below
  }
  return {
    cpu: cpu ?? cpus()[0]?.model ?? 'unknown CPU',
    cores,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${type()} ${release()}`,
    placement: placement
      ? `driver on CPU ${placement.driverCpus}, servers on CPU ${placement.serverCpus} (taskset)`
      : 'processes not pinned to CPUs',
    loadAverage: loadavg()[0] ?? 0,
  };
}
