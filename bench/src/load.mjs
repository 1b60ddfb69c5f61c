// @ts-check
// The driver's two tools: run N jobs with at most C in flight, and an undici Pool per server
// with its default timeouts turned off, so a slow answer is measured rather than cut off.
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

/**
 * Runs `job(i)` for i in [0, count) with at most `concurrency` in flight. The first error stops
 * new jobs from starting and is thrown once the running ones settle.
 * @template T
 * @param {number} count
 * @param {number} concurrency
 * @param {(i: number) => Promise<T>} job
 * @returns {Promise<T[]>}
 */
export async function runConcurrently(count, concurrency, job) {
  /** @type {T[]} */
  const results = new Array(count);
  let next = 0;
  /** @type {unknown} */
  let failure;
  let failed = false;
  const lane = async () => {
    while (!failed && next < count) {
      const i = next++;
      try {
        results[i] = await job(i);
      } catch (err) {
        failed = true;
        failure = err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  if (failed) throw failure;
  return results;
}

/** Milliseconds since an arbitrary origin, with sub-millisecond resolution. */
export const now = () => performance.now();

/**
 * @param {string} origin
 * @param {number} connections
 */
export function openPool(origin, connections) {
  return new Pool(origin, {
    connections,
    headersTimeout: 0,
    bodyTimeout: 0,
    keepAliveTimeout: 30_000,
  });
}

/** @param {number} ms */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
