import { CliError, isCliError } from '../cli-error.js';
import type { CommandContext } from '../context.js';
import { type BatchReport, batchDemo } from '../demos/batch.js';
import { type FailReport, failDemo } from '../demos/fail.js';
import { type LongReport, longDemo } from '../demos/long.js';
import { checkDemoTarget } from '../demos/probe.js';
import { type QueueFullReport, queueFullDemo } from '../demos/queue-full.js';
import { type SingleReport, singleDemo } from '../demos/single.js';
import { EXIT_CODES } from '../exit-codes.js';
import type { DemoName } from '../options.js';
import { formatDuration } from '../render/duration.js';
import { cliCommand, cliStart } from '../resume.js';
import { deadlineFor } from './deadline.js';
import { unhealthyError } from './health.js';

export type DemoReport = SingleReport | BatchReport | QueueFullReport | LongReport | FailReport;

const DEMOS: Readonly<Record<DemoName, (ctx: CommandContext) => Promise<DemoReport>>> = {
  single: singleDemo,
  batch: batchDemo,
  'queue-full': queueFullDemo,
  long: longDemo,
  fail: failDemo,
};

/**
 * `--demo [name]`: the named demos in order, against the proxy at --url; --json reports them all.
 * `--timeout` bounds the whole run, every read, submission and wait of every demo (exit 124).
 */
export async function runDemos(
  ctx: CommandContext,
  demos: readonly DemoName[],
  proxyStops = false,
): Promise<void> {
  const { output, options } = ctx;
  const started = performance.now();
  // One deadline the demos share through the signal: a timeout of each wait's own would start
  // --timeout afresh at every wait.
  const deadline = deadlineFor(ctx.signal, options.timeoutMs);
  const { timeoutMs, ...untimed } = options;
  const run: CommandContext = { ...ctx, options: untimed, signal: deadline.signal };
  try {
    // Every demo task would fail against a target the proxy cannot reach, and the tour say little.
    const unhealthy = unhealthyError(
      await run.client.health({ signal: run.signal }),
      'the demos need the demo target behind the proxy: slow-target, which npm run demo starts with it',
    );
    if (unhealthy) throw unhealthy;
    await checkDemoTarget(run);
    output.data(output.color.bold(`proxy-cli demo against ${options.url}: ${demos.join(', ')}`));
    const reports: DemoReport[] = [];
    for (const name of demos) reports.push(await DEMOS[name](run));
    const tookMs = performance.now() - started;
    output.document({ url: options.url, took_ms: Math.round(tookMs), demos: reports });
    const next = proxyStops
      ? `The demo proxy has stopped; to look around with ${cliStart(options.runByNpx === true)} --stats and --list-tasks, start a proxy as docs/getting-started.md shows`
      : `Next: ${cliCommand(options, ['--stats'])}, ${cliCommand(options, ['--list-tasks'])}`;
    output.data(`\n${output.color.green('demo done')} in ${formatDuration(tookMs)}. ${next}`);
  } catch (error) {
    // A wait stopped by the shared signal reports itself interrupted: only Ctrl-C is that.
    if (deadline.signal.aborted && !ctx.signal.aborted) {
      // A wait cut off names its task and how to resume it: kept, for --json scripts too.
      const waited = isCliError(error) ? error : undefined;
      throw new CliError(
        EXIT_CODES.timeout,
        `gave up after ${formatDuration(timeoutMs ?? 0)} (--timeout, for the whole demo); the demo's tasks go on on the proxy`,
        waited?.hint,
        { cause: error, ...(waited && { details: waited.details }) },
      );
    }
    // Ctrl-C outside a wait of its own (which names its task and how to resume it): a read, a
    // submission, the batch's waits. The tasks go on, as after --timeout.
    if (ctx.signal.aborted && !isCliError(error)) {
      throw new CliError(
        EXIT_CODES.interrupted,
        'interrupted during the demo; the tasks it submitted, if any, go on on the proxy',
        `see them with: ${cliCommand(options, ['--list-tasks'])}`,
        { cause: error },
      );
    }
    throw error;
  }
}
