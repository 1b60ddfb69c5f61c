import { describe, expect, it } from 'vitest';
import { onServerCpus, planPlacement } from '../src/cpu-placement.mjs';
import { cpuModel } from '../src/machine.mjs';
import { cpuSeconds, parseCpuSeconds, parseRssBytes, rssBytes } from '../src/proc-stats.mjs';

describe('parseCpuSeconds', () => {
  // Fields 14 and 15 (utime 250, stime 50) after a command name with a space and a ')'.
  const stat =
    '4242 (node (bench) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 11 0 100 1000000 5000';

  it('adds user and system ticks, counting fields from the last parenthesis', () => {
    expect(parseCpuSeconds(stat, 100)).toBe(3);
    expect(parseCpuSeconds(stat, 1000)).toBe(0.3);
  });

  it('refuses text that is not a stat line', () => {
    expect(() => parseCpuSeconds('garbage', 100)).toThrow(/unexpected/);
  });
});

describe('parseRssBytes', () => {
  it('reads VmRSS in bytes', () => {
    expect(
      parseRssBytes('Name:\tnode\nVmPeak:\t  900 kB\nVmRSS:\t   51200 kB\nThreads:\t11\n'),
    ).toBe(51200 * 1024);
  });

  it('refuses a status without VmRSS', () => {
    expect(() => parseRssBytes('Name:\tnode\n')).toThrow(/VmRSS/);
  });
});

describe.runIf(process.platform === 'linux')('reading a live process', () => {
  it('sees this process use CPU and memory', async () => {
    const before = await cpuSeconds(process.pid);
    const deadline = Date.now() + 5_000;
    // Spin until the kernel has charged at least one more tick to this process.
    while ((await cpuSeconds(process.pid)) <= before && Date.now() < deadline) {
      const until = Date.now() + 20;
      while (Date.now() < until);
    }
    expect(await cpuSeconds(process.pid)).toBeGreaterThan(before);
    expect(await rssBytes(process.pid)).toBeGreaterThan(10 * 1024 * 1024);
  });
});

describe('cpuModel', () => {
  it('takes the first model name of /proc/cpuinfo', () => {
    expect(
      cpuModel('processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t: fpu\n'),
    ).toBe('Intel(R) Xeon(R) Processor');
    expect(cpuModel('processor\t: 0\n')).toBeNull();
  });
});

describe('planPlacement', () => {
  it.each([
    [2, true, { driverCpus: '0', serverCpus: '1' }],
    [8, true, { driverCpus: '0', serverCpus: '1-7' }],
    [1, true, null],
    [4, false, null],
  ])('%s cores, taskset %s → %j', (cores, taskset, expected) => {
    expect(planPlacement(cores, taskset)).toEqual(expected);
  });

  it('starts a server through taskset only when there is a placement', () => {
    expect(onServerCpus(null, 'haproxy', ['-f', 'x'])).toEqual({
      command: 'haproxy',
      args: ['-f', 'x'],
    });
    expect(onServerCpus({ driverCpus: '0', serverCpus: '1' }, 'haproxy', ['-f', 'x'])).toEqual({
      command: 'taskset',
      args: ['-c', '1', 'haproxy', '-f', 'x'],
    });
  });
});
