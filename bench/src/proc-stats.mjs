// @ts-check
// Reads another process's CPU time and resident memory from /proc (Linux), so the figures
// belong to the server under test and not to the driver.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/** Clock ticks per second, the unit of utime and stime in /proc/<pid>/stat. */
/** @type {number | undefined} */
let ticksPerSecond;
function clockTicks() {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      ticksPerSecond = 100; // the value on every mainstream Linux build
    }
  }
  return ticksPerSecond;
}

/**
 * User plus system CPU seconds from the text of /proc/<pid>/stat. The command name in field 2
 * may contain spaces and parentheses, so fields are counted from its last ')'.
 * @param {string} stat
 * @param {number} ticks clock ticks per second
 */
export function parseCpuSeconds(stat, ticks) {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`unexpected /proc/<pid>/stat format: ${stat.slice(0, 80)}`);
  }
  return (utime + stime) / ticks;
}

/**
 * Resident set size in bytes from the text of /proc/<pid>/status.
 * @param {string} status
 */
export function parseRssBytes(status) {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match?.[1]) throw new Error('no VmRSS line in /proc/<pid>/status');
  return Number(match[1]) * 1024;
}

/** @param {number} pid */
export async function cpuSeconds(pid) {
  return parseCpuSeconds(await readFile(`/proc/${pid}/stat`, 'utf8'), clockTicks());
}

/** @param {number} pid */
export async function rssBytes(pid) {
  return parseRssBytes(await readFile(`/proc/${pid}/status`, 'utf8'));
}
