#!/usr/bin/env node
// @ts-check
// `node bench/tools/turnaround.mjs [tasks]`: why the proxy completes fewer tasks per second than
// HAProxy under the same cap. Runs scenario 2's load (cap 50, 20 ms target, 200 concurrent
// submitters) through HAProxy, through the proxy and through servers/minimal-forwarder.mjs (the
// least a Node forwarder can do), each in front of servers/gap-target.mjs, which records how long
// each connection stays idle between answering and receiving the next request. Prints those
// gaps: for HAProxy; for the two Node forwarders while the burst of submissions arrives, and
// once every task is queued.
import { availableParallelism } from 'node:os';
import { hasTaskset, pinDriver, planPlacement } from '../src/cpu-placement.mjs';
import { now, openPool, runConcurrently } from '../src/load.mjs';
import {
  placeServers,
  startGapTarget,
  startHaproxy,
  startMinimalForwarder,
} from '../src/processes.mjs';
import { submitTask, waitForFinished } from '../src/proxy-api.mjs';
import {
  CAP,
  DRIVER_CONCURRENCY as SUBMITTERS,
  startCappedProxy,
  TARGET_MS,
  WARMUP,
} from '../src/scenarios/end-to-end.mjs';

const count = Number(process.argv[2] ?? 10_000);

const placement = planPlacement(availableParallelism(), hasTaskset());
if (placement) {
  pinDriver(placement);
  placeServers(placement);
}
const target = await startGapTarget({ delayMs: TARGET_MS });
/** @typedef {{ n: number, mean?: number, p50?: number, p90?: number, p99?: number }} Gaps */
const gaps = async () => /** @type {Gaps} */ (await (await fetch(`${target.url}/_gaps`)).json());
/** @param {Gaps} g */
const show = (g) =>
  g.n === 0
    ? 'no gaps'
    : `${g.n} gaps, mean ${g.mean?.toFixed(2)} ms, p50 ${g.p50?.toFixed(2)}, p90 ` +
      `${g.p90?.toFixed(2)}, p99 ${g.p99?.toFixed(2)}`;

try {
  const haproxy = await startHaproxy({ target, maxconn: CAP });
  const hPool = openPool(haproxy.url, SUBMITTERS);
  const call = async () => {
    const res = await hPool.request({ path: '/api/x', method: 'GET' });
    await res.body.dump();
  };
  await runConcurrently(WARMUP, SUBMITTERS, call);
  await gaps();
  const started = now();
  await runConcurrently(count, SUBMITTERS, call);
  const hRate = count / ((now() - started) / 1000);
  console.log(`HAProxy: ${Math.round(hRate)}/s; ${show(await gaps())}`);
  await hPool.close();
  await haproxy.stop();

  /**
   * @param {string} name
   * @param {import('../src/processes.mjs').Server} server
   */
  const asyncForwarder = async (name, server) => {
    const pool = openPool(server.url, SUBMITTERS);
    try {
      await runConcurrently(WARMUP, SUBMITTERS, () => submitTask(pool, '/api/x'));
      await waitForFinished(pool, WARMUP, { timeoutMs: 60_000 });
      await gaps();
      const t0 = now();
      await runConcurrently(count, SUBMITTERS, () => submitTask(pool, '/api/x'));
      const burstMs = now() - t0;
      const burst = await gaps();
      await waitForFinished(pool, WARMUP + count, { timeoutMs: 120_000, intervalMs: 5 });
      console.log(`${name}: ${Math.round(count / ((now() - t0) / 1000))}/s`);
      console.log(
        `  while ${count} submissions arrived (${Math.round(burstMs)} ms): ${show(burst)}`,
      );
      console.log(`  once all were queued: ${show(await gaps())}`);
    } finally {
      await pool.close();
      await server.stop();
    }
  };
  await asyncForwarder('proxy-server', await startCappedProxy(target, count));
  await asyncForwarder(
    'minimal forwarder',
    await startMinimalForwarder({ target, maxConcurrent: CAP }),
  );
} finally {
  await target.stop();
}
