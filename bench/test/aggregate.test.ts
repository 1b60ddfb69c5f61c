import { describe, expect, it } from 'vitest';
import { aggregateRows, type RowSpec } from '../src/aggregate.mjs';

describe('aggregateRows', () => {
  it('summarises a figure and its limit, and takes the ratio per run before its median', () => {
    const specs: RowSpec[] = [
      {
        id: 'proxy',
        label: 'proxy',
        measure: 'proxy',
        unit: 'req/s',
        limit: { label: 'bare', measure: 'bare' },
        target: { on: 'ratio', op: '>=', value: 0.7 },
      },
    ];
    const runs = [
      { proxy: 80, bare: 100 },
      { proxy: 90, bare: 200 },
      { proxy: 70, bare: 100 },
    ];
    const [row] = aggregateRows(specs, runs);
    expect(row?.figure).toMatchObject({
      n: 3,
      median: 80,
      min: 70,
      max: 90,
      samples: [80, 90, 70],
    });
    expect(row?.limit).toMatchObject({ label: 'bare', summary: { median: 100 } });
    // Per-run ratios 0.8, 0.45, 0.7: median 0.7, not 80 / 100.
    expect(row?.ratio?.median).toBeCloseTo(0.7);
    expect(row?.target).toEqual({ text: 'ratio ≥ 0.7', met: true });
    expect(row?.unavailable).toBeNull();
  });

  it('compares with a constant limit and judges a target on the figure', () => {
    const specs: RowSpec[] = [
      { id: 'a', label: 'a', measure: 'a', unit: '/s', limit: { label: 'ideal', value: 2500 } },
      {
        id: 'g',
        label: 'g',
        measure: 'g',
        unit: '×',
        target: { on: 'figure', op: '<=', value: 2 },
      },
    ];
    const [a, g] = aggregateRows(specs, [{ a: 2250, g: 2.5 }]);
    expect(a?.ratio?.median).toBeCloseTo(0.9);
    expect(a?.limit?.summary?.median).toBe(2500);
    expect(g?.ratio).toBeNull();
    expect(g?.target).toEqual({ text: 'figure ≤ 2', met: false });
  });

  it("also requires the ratio of a peer row when asked (the proxy against HAProxy's)", () => {
    const specs: RowSpec[] = [
      {
        id: 'peer',
        label: 'HAProxy',
        measure: 'h',
        unit: '/s',
        limit: { label: 'ideal', value: 100 },
      },
      {
        id: 'proxy',
        label: 'proxy',
        measure: 'p',
        unit: '/s',
        limit: { label: 'ideal', value: 100 },
        target: {
          on: 'ratio',
          op: '>=',
          value: 0.9,
          notBelowRatioOf: { row: 'peer', name: 'HAProxy' },
        },
      },
    ];
    const behind = aggregateRows(specs, [{ h: 97, p: 95 }])[1];
    expect(behind?.target).toEqual({ text: 'ratio ≥ 0.9 and ≥ HAProxy (0.97)', met: false });
    const ahead = aggregateRows(specs, [{ h: 93, p: 95 }])[1];
    expect(ahead?.target?.met).toBe(true);
    const alone = aggregateRows(specs, [{ p: 95 }], { h: 'haproxy is not installed' });
    expect(alone[0]?.unavailable).toBe('haproxy is not installed');
    expect(alone[1]?.target).toEqual({ text: 'ratio ≥ 0.9 (HAProxy unavailable)', met: true });
  });

  it('marks a figure no run measured as unavailable, with the reason when one was given', () => {
    const specs: RowSpec[] = [
      {
        id: 'w',
        label: 'w',
        measure: 'w',
        unit: 'ms',
        target: { on: 'figure', op: '<=', value: 1 },
      },
      { id: 'x', label: 'x', measure: 'x', unit: 'ms' },
    ];
    const [w, x] = aggregateRows(specs, [{}], { w: 'no waiting read' });
    expect(w).toMatchObject({
      figure: null,
      unavailable: 'no waiting read',
      target: { met: null },
    });
    expect(x?.unavailable).toBe('no run measured x');
  });

  it('refuses duplicate row ids and targets that name an unknown row', () => {
    const row: RowSpec = { id: 'a', label: 'a', measure: 'a', unit: '' };
    expect(() => aggregateRows([row, row], [{ a: 1 }])).toThrow(/unique/);
    expect(() =>
      aggregateRows(
        [
          {
            ...row,
            target: {
              on: 'figure',
              op: '>=',
              value: 0,
              notBelowRatioOf: { row: 'zz', name: 'zz' },
            },
          },
        ],
        [{ a: 1 }],
      ),
    ).toThrow(/unknown row 'zz'/);
  });
});
