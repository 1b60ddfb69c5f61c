// @ts-check
// Keeps the driver off the servers' CPUs. On a small machine the driver (autocannon, thousands
// of submissions a second) would otherwise take the CPU the proxy or its target needs, and the
// figures would describe the driver. The driver gets CPU 0; every server it starts shares the
// others.
import { spawnSync } from 'node:child_process';

/**
 * @typedef {object} Placement
 * @property {string} driverCpus taskset CPU list for the driver
 * @property {string} serverCpus taskset CPU list for the servers
 */

/**
 * @param {number} cores CPUs this process may use
 * @param {boolean} hasTaskset
 * @returns {Placement | null} null when there is nothing to split or no way to split it
 */
export function planPlacement(cores, hasTaskset) {
  if (!hasTaskset || cores < 2) return null;
  return { driverCpus: '0', serverCpus: cores === 2 ? '1' : `1-${cores - 1}` };
}

export function hasTaskset() {
  const probe = spawnSync('taskset', ['-V'], { encoding: 'utf8' });
  return !probe.error && probe.status === 0;
}

/**
 * Pins every thread of this process to the driver's CPUs.
 * @param {Placement} placement
 */
export function pinDriver(placement) {
  const result = spawnSync('taskset', ['-a', '-pc', placement.driverCpus, String(process.pid)], {
    encoding: 'utf8',
  });
  if (result.error || result.status !== 0) {
    throw new Error(`taskset could not pin the driver: ${result.stderr || result.error?.message}`);
  }
}

/**
 * The command line that starts `command` on the servers' CPUs (taskset execs it, so the pid is
 * the server's own).
 * @param {Placement | null} placement
 * @param {string} command
 * @param {string[]} args
 */
export function onServerCpus(placement, command, args) {
  if (!placement) return { command, args };
  return { command: 'taskset', args: ['-c', placement.serverCpus, command, ...args] };
}

/**
 * The node flags for a server on a single CPU: V8's garbage-collection helper threads cannot run
 * beside the main thread there, they only take turns with it (measured: 15% more CPU per
 * submission in scenario 1). docs/operations.md recommends the same flag on one CPU.
 * @param {Placement | null} placement
 * @returns {string[]}
 */
export function oneCpuNodeFlags(placement) {
  return placement && /^\d+$/.test(placement.serverCpus) ? ['--single-threaded-gc'] : [];
}
