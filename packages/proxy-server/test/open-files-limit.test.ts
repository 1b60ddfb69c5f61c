import { describe, expect, it } from 'vitest';
import { openFilesLimit, openFilesWarning } from '../src/config/open-files-limit.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

describe('openFilesLimit', () => {
  it("reads the soft limit from Linux's /proc/self/limits", () => {
    expect(openFilesLimit(() => LIMITS)).toBe(1024);
  });

  it('is unknown where the system does not say, or says unlimited', () => {
    expect(
      openFilesLimit(() => {
        throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      }),
    ).toBeUndefined();
    expect(
      openFilesLimit(() => LIMITS.replace(/1024 {17}524288/, 'unlimited            unlimited')),
    ).toBeUndefined();
  });

  it("reads this process's limit on Linux", () => {
    if (process.platform !== 'linux') return;
    expect(openFilesLimit()).toBeGreaterThan(0);
  });
});

describe('openFilesWarning', () => {
  const config = { numWorkers: 2000, maxConcurrent: 2000, maxConnections: null };

  it('warns when the calls at once need more sockets than the process may open', () => {
    expect(openFilesWarning(config, 1024)).toBe(
      '2000 upstream calls at once (--num-workers, --max-concurrent) need about 2564 open files ' +
        '(a socket per call in flight, plus one per client connection), but this process may open ' +
        '1024 (ulimit -n): calls past that wait for one to free, so fewer run at once. Raise the limit ' +
        '(ulimit -n 3072 or more; LimitNOFILE= in systemd) or lower --max-concurrent',
    );
  });

  it('counts the calls that can really be in flight: the fewer of workers and the cap', () => {
    expect(openFilesWarning({ ...config, numWorkers: 5 }, 1024)).toBeUndefined();
    expect(openFilesWarning({ ...config, maxConcurrent: 700 }, 1024)).toBeUndefined();
    expect(openFilesWarning({ ...config, maxConcurrent: 800 }, 1024)).toMatch(/^800 upstream/);
  });

  it('counts the client connections --max-connections lets in', () => {
    const capped = { ...config, maxConcurrent: 700, maxConnections: 200 };
    expect(openFilesWarning(capped, 1024)).toMatch(
      /need about 1139 open files \(a socket per call in flight and one per client connection, --max-connections 200\)/,
    );
  });

  it('says nothing when the limit is unknown', () => {
    expect(openFilesWarning(config, undefined)).toBeUndefined();
  });
});
