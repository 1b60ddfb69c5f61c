import { describe, expect, it } from 'vitest';
import type { RowSpec } from '../src/aggregate.mjs';
import { runScenario } from '../src/run-scenario.mjs';
import type { Scenario, ScenarioContext } from '../src/scenario.d.ts';

const rows: RowSpec[] = [
  { id: 'a', label: 'a', measure: 'a', unit: '/s', limit: { label: 'ideal', value: 10 } },
  { id: 'b', label: 'b', measure: 'b', unit: 'ms' },
];

function fakeScenario(measures: Array<Record<string, number> | Error>, unavailable = {}) {
  const calls = { runs: 0, stopped: 0 };
  const scenario: Scenario = {
    id: 'fake',
    title: 'Fake',
    describe: (quick) => (quick ? 'small' : 'large'),
    rows: () => rows,
    async start() {
      return {
        unavailable,
        async runOnce() {
          const next = measures[calls.runs++];
          if (next instanceof Error) throw next;
          return next ?? {};
        },
        async stop() {
          calls.stopped++;
        },
      };
    },
  };
  return { scenario, calls };
}

const ctx = (quick: boolean, log: string[] = []): ScenarioContext => ({
  quick,
  profileDir: undefined,
  log: (m) => log.push(m),
});

describe('runScenario', () => {
  it('runs the scenario the asked number of times and aggregates the runs', async () => {
    const { scenario, calls } = fakeScenario([
      { a: 8, b: 1 },
      { a: 9, b: 2 },
      { a: 10, b: 3 },
    ]);
    const result = await runScenario(scenario, ctx(false), 3);
    expect(calls).toEqual({ runs: 3, stopped: 1 });
    expect(result).toMatchObject({
      id: 'fake',
      status: 'ok',
      error: null,
      runs: 3,
      setup: 'large',
    });
    expect(result.rows[0]?.figure?.median).toBe(9);
    expect(result.rows[0]?.ratio?.median).toBeCloseTo(0.9);
  });

  it('reports a crash with the runs that finished, and still stops the session', async () => {
    const log: string[] = [];
    const { scenario, calls } = fakeScenario([{ a: 5, b: 1 }, new Error('proxy died\nits output')]);
    const result = await runScenario(scenario, ctx(true, log), 3);
    expect(calls).toEqual({ runs: 2, stopped: 1 });
    expect(result).toMatchObject({ status: 'crashed', error: 'proxy died\nits output', runs: 1 });
    expect(result.rows[0]?.figure?.samples).toEqual([5]);
    expect(log.some((line) => line.includes('fake: crashed: Error: proxy died'))).toBe(true);
  });

  it('has no rows when the scenario could not even start', async () => {
    const scenario: Scenario = {
      ...fakeScenario([]).scenario,
      start: () => Promise.reject(new Error('haproxy exploded')),
    };
    const result = await runScenario(scenario, ctx(true), 1);
    expect(result).toMatchObject({
      status: 'crashed',
      error: 'haproxy exploded',
      runs: 0,
      rows: [],
    });
  });

  it('passes the reasons for unavailable figures to the rows', async () => {
    const { scenario } = fakeScenario([{ a: 5 }], { b: 'no waiting read' });
    const result = await runScenario(scenario, ctx(true), 1);
    expect(result.status).toBe('ok');
    expect(result.rows[1]?.unavailable).toBe('no waiting read');
  });
});
