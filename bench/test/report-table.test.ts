import { describe, expect, it } from 'vitest';
import { aggregateRows } from '../src/aggregate.mjs';
import {
  type BenchReport,
  formatNumber,
  formatValue,
  renderReport,
  renderScenario,
  type ScenarioResult,
} from '../src/report-table.mjs';

describe('formatNumber', () => {
  it.each([
    [12345.6, '12,346'],
    [100, '100'],
    [42.345, '42.3'],
    [2.3456, '2.35'],
    [0.012345, '0.0123'],
    [0, '0'],
    [-1500, '-1,500'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
  ])('%s → %s', (value, text) => {
    expect(formatNumber(value)).toBe(text);
  });

  it('puts the unit after the number, and nothing for a unitless figure', () => {
    expect(formatValue(2500, '/s')).toBe('2,500 /s');
    expect(formatValue(1.5, '')).toBe('1.50');
  });
});

const submitRows = aggregateRows(
  [
    {
      id: 'proxy',
      label: 'proxy: 202 answers per second',
      measure: 'p',
      unit: 'req/s',
      limit: { label: 'bare Fastify 202', measure: 'b' },
      target: { on: 'ratio', op: '>=', value: 0.7 },
    },
    { id: 'wait', label: 'waiting read | p50', measure: 'w', unit: 'ms' },
  ],
  [
    { p: 9000, b: 15000 },
    { p: 10000, b: 15000 },
    { p: 11000, b: 15000 },
  ],
  { w: 'no waiting read' },
);

const scenario: ScenarioResult = {
  id: 'submit',
  title: '1. Submit throughput',
  setup: 'autocannon, 50 connections.',
  status: 'ok',
  error: null,
  runs: 3,
  seconds: 12.5,
  rows: submitRows,
};

describe('renderScenario', () => {
  it('writes one row per figure with median, spread, limit, ratio, target and verdict', () => {
    const text = renderScenario(scenario);
    expect(text).toContain('### 1. Submit throughput\n\nautocannon, 50 connections.\n');
    expect(text).toContain(
      '| Figure | Median | Spread over 3 runs | Limit (same run) | Ratio | Target | Met |',
    );
    expect(text).toContain(
      '| proxy: 202 answers per second | 10,000 req/s | ±10.0% (9,000–11,000) | bare Fastify 202: 15,000 req/s | 0.667 (0.6–0.733) | ratio ≥ 0.7 | **no** |',
    );
  });

  it('says why a figure is missing and escapes pipes in labels', () => {
    expect(renderScenario(scenario)).toContain(
      '| waiting read \\| p50 | unavailable: no waiting read | — | — | — | — | n/a |',
    );
  });

  it('shows a crash with its first line, and the rows of the runs that finished', () => {
    const crashed = renderScenario({
      ...scenario,
      status: 'crashed',
      error: 'proxy exited',
      runs: 1,
      rows: [],
    });
    expect(crashed).toContain('**Crashed:** proxy exited');
    expect(crashed).not.toContain('| Figure |');
    const partial = renderScenario({ ...scenario, status: 'crashed', error: 'boom', runs: 1 });
    expect(partial).toContain('Spread over 1 run |');
  });
});

describe('renderReport', () => {
  it('starts with the date, the mode, the command and the machine', () => {
    const report: BenchReport = {
      version: 1,
      mode: 'quick',
      date: '2026-01-02T03:04:05.000Z',
      command: 'pnpm bench --quick',
      revision: '3c6f574',
      machine: {
        cpu: 'Intel Xeon',
        cores: 2,
        memoryGiB: 23.5,
        node: 'v20.20.2',
        os: 'Linux 6.1',
        placement: 'driver on CPU 0, servers on CPU 1 (taskset)',
        loadAverage: 0.5,
      },
      scenarios: [scenario],
    };
    const text = renderReport(report);
    expect(text.split('\n')[0]).toBe(
      'Measured 2026-01-02 (quick mode) with `pnpm bench --quick`, proxy-server built from 3c6f574.',
    );
    expect(text).toContain(
      'Machine: Intel Xeon, 2 cores, 23.5 GiB memory, Linux 6.1, Node v20.20.2; driver on CPU 0, ' +
        'servers on CPU 1 (taskset); load average 0.50 at the start.',
    );
    expect(text).toContain('### 1. Submit throughput');
  });
});
