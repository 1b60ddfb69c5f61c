// @ts-check
// Scenario 7: what a browser downloads the first time it opens the dashboard at /ui: the page,
// its script and stylesheet (gzipped, as every browser asks), and the first reads it makes
// (/stats, a page of /tasks, the start of /events), headers included, with a full page of tasks
// in the proxy. The ceiling is 200 KB. The browser test (packages/proxy-server/test/
// dashboard.test.ts) measures the same load in Chromium, against the same ceiling.
import { gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { openPool, runConcurrently } from '../load.mjs';
import { startProxy, startTarget } from '../processes.mjs';
import { submitTask, waitForFinished } from '../proxy-api.mjs';

/** @typedef {import('../scenario.d.ts').Scenario} Scenario */

const LIMIT_KB = 200;
const TASKS = 60;
const BROWSER_HEADERS = {
  'accept-encoding': 'gzip, deflate, br',
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) proxy-bench',
};

/**
 * Bytes one answer took on the wire: status line, headers and the body as sent (undici does not
 * decompress). `headersOnly` for a stream that never ends.
 * @param {string} url
 * @param {boolean} [headersOnly]
 */
async function transferred(url, headersOnly = false) {
  const res = await request(url, { headers: BROWSER_HEADERS });
  let size = `HTTP/1.1 ${res.statusCode} OK\r\n`.length + 2;
  for (const [name, value] of Object.entries(res.headers)) {
    for (const one of Array.isArray(value) ? value : [value]) size += `${name}: ${one}\r\n`.length;
  }
  let body = Buffer.alloc(0);
  if (headersOnly) res.body.destroy();
  else for await (const chunk of res.body) body = Buffer.concat([body, chunk]);
  if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode}`);
  const decoded = res.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
  return { bytes: size + body.length, body: decoded };
}

/** @type {Scenario} */
export const dashboard = {
  id: 'dashboard',
  title: '7. The dashboard: first load',
  describe: () =>
    `A proxy holding ${TASKS} finished tasks; GET /ui, then the files it names and the reads it ` +
    'makes first (/stats, /tasks?limit=50, the opening of /events), as a browser asks for them ' +
    '(Accept-Encoding: gzip, br); bytes on the wire, headers included.',
  rows: () => [
    { id: 'page', label: 'page, script and stylesheet', measure: 'assets_kb', unit: 'KB' },
    { id: 'reads', label: 'first reads: /stats, /tasks, /events', measure: 'reads_kb', unit: 'KB' },
    {
      id: 'first-load',
      label: 'first load in all',
      measure: 'first_load_kb',
      unit: 'KB',
      limit: { label: 'ceiling', value: LIMIT_KB },
      target: { on: 'ratio', op: '<=', value: 1 },
    },
  ],
  async start() {
    const target = await startTarget();
    const proxy = await startProxy({ target, args: [] });
    const pool = openPool(proxy.url, 8);
    await runConcurrently(TASKS, 8, () => submitTask(pool, '/api/function1', { method: 'GET' }));
    await waitForFinished(pool, TASKS, { timeoutMs: 60_000, intervalMs: 50 });
    await pool.close();
    return {
      unavailable: {},
      async runOnce() {
        const page = await transferred(`${proxy.url}/ui`);
        const html = page.body.toString('utf8');
        let assets = page.bytes;
        for (const [, src] of html.matchAll(/(?:src|href)="(ui\/[^"]+)"/g)) {
          assets += (await transferred(new URL(/** @type {string} */ (src), `${proxy.url}/`).href))
            .bytes;
        }
        let reads = 0;
        for (const path of ['/stats', '/tasks?limit=50&offset=0']) {
          reads += (await transferred(`${proxy.url}${path}`)).bytes;
        }
        // The stream's headers: its first message comes with the first transition.
        reads += (await transferred(`${proxy.url}/events`, true)).bytes;
        return {
          assets_kb: assets / 1024,
          reads_kb: reads / 1024,
          first_load_kb: (assets + reads) / 1024,
        };
      },
      async stop() {
        await proxy.stop();
        await target.stop();
      },
    };
  },
};
