// @ts-check
// Runs one scenario `runs` times and turns its measures into report rows. A crash is reported
// with whatever runs finished before it, never thrown: the other scenarios still run.
import { aggregateRows } from './aggregate.mjs';

/** @typedef {import('./scenario.d.ts').Scenario} Scenario */
/** @typedef {import('./scenario.d.ts').ScenarioContext} ScenarioContext */
/** @typedef {import('./report-table.mjs').ScenarioResult} ScenarioResult */

/**
 * @param {Scenario} scenario
 * @param {ScenarioContext} ctx
 * @param {number} runs
 * @returns {Promise<ScenarioResult>}
 */
export async function runScenario(scenario, ctx, runs) {
  const started = Date.now();
  /** @type {Record<string, number>[]} */
  const measures = [];
  /** @type {Record<string, string>} */
  let unavailable = {};
  /** @type {string | null} */
  let error = null;
  try {
    const session = await scenario.start(ctx);
    unavailable = session.unavailable;
    try {
      for (let run = 1; run <= runs; run++) {
        ctx.log(`${scenario.id}: run ${run} of ${runs}`);
        measures.push(await session.runOnce(run));
      }
    } finally {
      await session.stop();
    }
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
    ctx.log(`${scenario.id}: crashed: ${err instanceof Error ? (err.stack ?? error) : error}`);
  }
  return {
    id: scenario.id,
    title: scenario.title,
    setup: scenario.describe(ctx.quick),
    status: error === null ? 'ok' : 'crashed',
    error,
    runs: measures.length,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    rows:
      error !== null && measures.length === 0
        ? []
        : aggregateRows(scenario.rows(ctx.quick), measures, unavailable),
  };
}
