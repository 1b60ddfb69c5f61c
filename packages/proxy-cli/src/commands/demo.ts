import type { CommandContext } from '../context.js';
import { type BatchReport, batchDemo } from '../demos/batch.js';
import { type FailReport, failDemo } from '../demos/fail.js';
import { type LongReport, longDemo } from '../demos/long.js';
import { type QueueFullReport, queueFullDemo } from '../demos/queue-full.js';
import { type SingleReport, singleDemo } from '../demos/single.js';
import type { DemoName } from '../options.js';
import { formatDuration } from '../render/duration.js';
import { unhealthyError } from './health.js';

export type DemoReport = SingleReport | BatchReport | QueueFullReport | LongReport | FailReport;

const DEMOS: Readonly<Record<DemoName, (ctx: CommandContext) => Promise<DemoReport>>> = {
  single: singleDemo,
  batch: batchDemo,
  'queue-full': queueFullDemo,
  long: longDemo,
  fail: failDemo,
};

/** `--demo [name]`: the named demos in order, against the proxy at --url; --json reports them all. */
export async function runDemos(
  ctx: CommandContext,
  demos: readonly DemoName[],
  proxyStops = false,
): Promise<void> {
  const { output, options } = ctx;
  const started = performance.now();
  // Every demo task would fail against a target the proxy cannot reach, and the tour say little.
  const unhealthy = unhealthyError(
    await ctx.client.health({ signal: ctx.signal }),
    'the demos need the demo target behind the proxy: slow-target, which npm run demo starts with it',
  );
  if (unhealthy) throw unhealthy;
  output.data(output.color.bold(`proxy-cli demo against ${options.url}: ${demos.join(', ')}`));
  const reports: DemoReport[] = [];
  for (const name of demos) reports.push(await DEMOS[name](ctx));
  const tookMs = performance.now() - started;
  output.document({ url: options.url, took_ms: Math.round(tookMs), demos: reports });
  const next = proxyStops
    ? 'The demo proxy has stopped; to look around with proxy-cli --stats and --list-tasks, start a proxy as docs/getting-started.md shows'
    : 'Next: proxy-cli --stats, proxy-cli --list-tasks';
  output.data(`\n${output.color.green('demo done')} in ${formatDuration(tookMs)}. ${next}`);
}
