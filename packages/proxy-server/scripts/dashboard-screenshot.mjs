// @ts-check
// Makes docs/images/dashboard.png: the built proxy in front of slow-target, a minute of mixed
// work so that the charts have something to show, then the dashboard with a task open, shot by
// Debian's chromium through playwright-core. Run from the repository root after `pnpm build`:
//   node packages/proxy-server/scripts/dashboard-screenshot.mjs [seconds]
import { join } from 'node:path';
import { startSlowTarget } from 'slow-target';
import { spawnProxyServer } from 'test-support';
import { launchChromium } from './chromium.mjs';

const seconds = Number(process.argv[2] ?? 60);
const out = join(import.meta.dirname, '..', '..', '..', 'docs', 'images', 'dashboard.png');
const target = await startSlowTarget({ port: 0 });
const proxy = await spawnProxyServer({
  args: [
    '--target-url',
    target.url,
    '--store',
    'memory',
    '--max-concurrent',
    '4',
    '--num-workers',
    '4',
    '--max-queue-size',
    '40',
    '--log-level',
    'warn',
  ],
});
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1500, height: 860 } });
  await page.goto(`${proxy.url}/ui`);
  await page.locator('#live[data-state="live"]').waitFor();
  const post = (path, body) =>
    fetch(proxy.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    }).then((response) => response.json());
  let shown = '';
  const until = Date.now() + seconds * 1000;
  for (let i = 0; Date.now() < until; i++) {
    const load = 1 + Math.round(3 + 3 * Math.sin(i / 12));
    for (let j = 0; j < load; j++) {
      const kind = (i + j) % 11;
      if (kind === 0) await post('/api/fail?status=502');
      else if (kind === 5) await post('/api/binary?bytes=4096&delay_ms=800');
      else {
        const { task_id } = await post('/api/function1', {
          year: 2026,
          region: `r${j}`,
          delay_ms: 400 + ((i * 137 + j * 71) % 2400),
        });
        shown = task_id;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  await post('/api/long?seconds=600');
  await page
    .locator(`#task-table tr[data-id="${shown}"][data-status="completed"]`)
    .waitFor({ timeout: 30_000 });
  await page.locator(`#task-table tr[data-id="${shown}"]`).click();
  await page.locator('#detail pre.body').waitFor();
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await proxy.stop();
  await target.close();
}
