// @ts-check
// A target for diagnosis, not for figures: answers every request after --delay-ms and records
// how long each freed slot stays unused: the time from finishing an answer to the next request
// arriving, on whichever connection (a forwarder may keep more connections than calls). Under a
// cap that keeps the target full, that is the forwarder's turnaround.
// GET /_gaps returns the gaps recorded since the last call, and resets them.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { percentile } from '../src/stats.mjs';

const { values } = parseArgs({
  options: { 'delay-ms': { type: 'string', default: '20' } },
});
const delayMs = Number(values['delay-ms']);

/** @type {number[]} */
let gaps = [];
/** When each slot freed since then was freed, oldest first: the next request takes the oldest. */
/** @type {number[]} */
let freedAt = [];
let nextFreed = 0;

/** @param {number[]} values */
function summary(values) {
  if (values.length === 0) return { n: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return {
    n: values.length,
    mean,
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
  };
}

const server = createServer((req, res) => {
  const arrived = performance.now();
  if (req.url !== '/_gaps' && nextFreed < freedAt.length) {
    gaps.push(arrived - (freedAt[nextFreed++] ?? arrived));
    if (nextFreed === freedAt.length) {
      freedAt = [];
      nextFreed = 0;
    }
  }
  req.resume();
  req.on('end', () => {
    if (req.url === '/_gaps') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(summary(gaps)));
      gaps = [];
      freedAt = [];
      nextFreed = 0;
      return;
    }
    setTimeout(() => {
      const body = JSON.stringify({ result: 'ok', processed_at: new Date().toISOString() });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body, () => freedAt.push(performance.now()));
    }, delayMs);
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(`gap-target listening on http://127.0.0.1:${port}`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
