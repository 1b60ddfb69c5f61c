// @ts-check
// The scenarios in the order of the issue; run.mjs runs them one at a time.
import { boundedStore } from './bounded-store.mjs';
import { dashboard } from './dashboard.mjs';
import { endToEnd } from './end-to-end.mjs';
import { eventStreams } from './event-streams.mjs';
import { fairness } from './fairness.mjs';
import { manyTenants } from './many-tenants.mjs';
import { memory } from './memory.mjs';
import { overhead } from './overhead.mjs';
import { preferWait } from './prefer-wait.mjs';
import { readLatency } from './read-latency.mjs';
import { redisScenario } from './redis.mjs';
import { sqliteScale } from './sqlite-scale.mjs';
import { submitThroughput } from './submit-throughput.mjs';
import { timeToResult } from './time-to-result.mjs';

/** @type {import('../scenario.d.ts').Scenario[]} */
export const scenarios = [
  submitThroughput,
  endToEnd,
  fairness,
  manyTenants,
  overhead,
  timeToResult,
  memory,
  readLatency,
  sqliteScale,
  boundedStore,
  eventStreams,
  preferWait,
  redisScenario,
  dashboard,
];
