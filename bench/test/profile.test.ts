import { describe, expect, it } from 'vitest';
import {
  areaOf,
  busyTimeline,
  type CpuProfile,
  inclusiveAppTime,
  sliceProfile,
  summarizeProfile,
} from '../src/profile.mjs';

const frame = (functionName: string, url = '', lineNumber = 0) => ({
  functionName,
  url,
  lineNumber,
});

describe('areaOf', () => {
  it.each([
    [frame('(garbage collector)'), 'garbage collection'],
    [frame('(idle)'), '(idle)'],
    [frame('writev'), 'native (V8 builtins, no URL)'],
    [frame('emit', 'node:events'), 'node: internals'],
    [frame('wasm-function[20]', 'wasm://wasm/00034eea'), 'undici (llhttp, wasm)'],
    [
      frame(
        'route',
        'file:///w/node_modules/.pnpm/fastify@5.6.0/node_modules/fastify/lib/route.js',
      ),
      'fastify',
    ],
    [
      frame(
        'x',
        'file:///w/node_modules/.pnpm/@fastify+cors@11.0.0/node_modules/@fastify/cors/index.js',
      ),
      '@fastify/cors',
    ],
    [
      frame('submit', 'file:///work/main/packages/proxy-server/dist/bin.js'),
      'app: packages/proxy-server/dist/bin.js',
    ],
  ])('%j → %s', (f, area) => {
    expect(areaOf(f)).toBe(area);
  });
});

describe('summarizeProfile', () => {
  it('adds self time per function and per area, and keeps idle apart', () => {
    const profile: CpuProfile = {
      startTime: 0,
      endTime: 10_000,
      nodes: [
        { id: 1, callFrame: frame('(root)') },
        { id: 2, callFrame: frame('(idle)') },
        { id: 3, callFrame: frame('submit', 'file:///r/packages/proxy-server/dist/bin.js', 9) },
        { id: 4, callFrame: frame('(garbage collector)') },
      ],
      samples: [2, 3, 3, 4, 2, 3],
      timeDeltas: [1000, 2000, 2000, 1000, 3000, 1000],
    };
    const summary = summarizeProfile(profile, 1);
    expect(summary.totalMs).toBe(10);
    expect(summary.idleMs).toBe(4);
    expect(summary.byArea).toEqual([
      ['app: packages/proxy-server/dist/bin.js', 5],
      ['garbage collection', 1],
    ]);
    expect(summary.topFunctions).toEqual([
      { name: 'submit', where: 'packages/proxy-server/dist/bin.js:10', selfMs: 5 },
    ]);
  });
});

describe('busyTimeline', () => {
  it('gives the busy and GC share of each window', () => {
    const profile: CpuProfile = {
      startTime: 0,
      endTime: 20_000,
      nodes: [
        { id: 1, callFrame: frame('(idle)') },
        { id: 2, callFrame: frame('work', 'file:///a.js') },
        { id: 3, callFrame: frame('(garbage collector)') },
      ],
      samples: [2, 3, 1, 1, 2],
      timeDeltas: [5000, 2500, 2500, 5000, 5000],
    };
    expect(busyTimeline(profile, 10)).toEqual([
      { startMs: 0, busyPct: 75, gcPct: 25 },
      { startMs: 10, busyPct: 50, gcPct: 0 },
    ]);
  });
});

describe('inclusiveAppTime', () => {
  it("credits each of the proxy's functions on the stack with the sample, once", () => {
    const app = 'file:///r/packages/proxy-server/dist/bin.js';
    const profile: CpuProfile = {
      startTime: 0,
      endTime: 6_000,
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2] },
        { id: 2, callFrame: frame('send', app, 10), children: [3] },
        {
          id: 3,
          callFrame: frame('request', 'file:///w/node_modules/undici/index.js'),
          children: [4],
        },
        { id: 4, callFrame: frame('send', app, 10), children: [5] },
        { id: 5, callFrame: frame('parse', app, 20) },
      ],
      samples: [2, 3, 5],
      timeDeltas: [1000, 2000, 3000],
    };
    expect(inclusiveAppTime(profile, 5)).toEqual([
      { name: 'send', where: 'packages/proxy-server/dist/bin.js:11', totalMs: 6 },
      { name: 'parse', where: 'packages/proxy-server/dist/bin.js:21', totalMs: 3 },
    ]);
  });
});

describe('sliceProfile', () => {
  it('keeps the samples that began inside the range', () => {
    const profile: CpuProfile = {
      startTime: 0,
      endTime: 4_000,
      nodes: [{ id: 1, callFrame: frame('work', 'file:///a.js') }],
      samples: [1, 1, 1, 1],
      timeDeltas: [1000, 1000, 1000, 1000],
    };
    expect(sliceProfile(profile, 1, 3)).toMatchObject({
      samples: [1, 1],
      timeDeltas: [1000, 1000],
    });
    expect(sliceProfile(profile, 0, Number.POSITIVE_INFINITY).samples).toHaveLength(4);
  });
});
