import { setTimeout as sleep } from 'node:timers/promises';
import {
  isProxyError,
  isProxyOutage,
  isProxyResponseError,
  outagePauseMs,
  type TaskEvent,
} from 'proxy-client';
import type { Stats, TaskCounts, TaskStatus } from 'proxy-client/wire';
import { CliError } from '../cli-error.js';
import type { CommandContext } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { formatDuration } from '../render/duration.js';
import { renderStats, renderStatsLine } from '../render/stats.js';
import { renderBoard, TaskBoard } from '../render/task-board.js';
import { eventDocument, renderEventLine } from '../render/task-events.js';
import { cliCommand } from '../resume.js';
import { causeText } from '../to-cli-error.js';

/** Tasks read when the live table starts, and again after a `reset`. */
const LIST_LIMIT = 200;
/** Least time between two frames, however many events arrive. */
const FRAME_MS = 100;
/** The ages in the table change even when nothing happens. */
const TICK_MS = 1000;
/** Least time between two reads of the title's counts, however many events arrive. */
const COUNTS_MS = 1000;
/** Counts are read this often without events too: removals (cleanup, retention) send none. */
const COUNTS_IDLE_MS = 5000;

/**
 * `--watch`: every task's changes, from the proxy's event stream. On a terminal, a table of the
 * newest tasks redrawn in place; off one, a tab-separated line per event (`--json`: a JSON line
 * per event). It runs until Ctrl-C, which ends it with exit 130 and nothing more to say.
 */
export async function watchTasks(
  ctx: CommandContext,
  action: { statuses?: readonly TaskStatus[] },
): Promise<void> {
  try {
    if (ctx.output.canRedraw) await liveTable(ctx, action.statuses);
    else await eventLines(ctx, action.statuses);
  } catch (error) {
    throw stopped(ctx, error, 'watching');
  }
}

/**
 * `--stats --watch`: the stats read again every `refreshMs`, until Ctrl-C. A proxy read once and
 * then away (a restart, a deploy) is read again until it is back, as `--watch` waits for its
 * event stream: a view kept open to follow the proxy must outlast the proxy's restarts.
 */
export async function watchStats(ctx: CommandContext, refreshMs: number): Promise<void> {
  const { client, output, signal } = ctx;
  const view = output.canRedraw ? output.live() : undefined;
  const every = `every ${formatDuration(refreshMs)}`;
  let last: string | undefined;
  /** The tables last drawn on a terminal, kept on screen while the proxy is away. */
  let tables: string | undefined;
  /** Failed reads in a row while the proxy is away; undefined while it answers. */
  let outages: number | undefined;
  try {
    for (;;) {
      let stats: Stats;
      try {
        stats = await client.getStats({ signal });
      } catch (error) {
        // Never reached, the proxy is not there (exit 3); reached once, it is restarting.
        if (tables === undefined && last === undefined) throw error;
        if (signal.aborted || !isProxyOutage(error)) throw error;
        if (outages === undefined) {
          const away = `the proxy at ${ctx.options.url} is away${outageReason(error)}; reading the stats again until it is back`;
          if (view) view.render(`${tables}\n${output.color.dim(away)}`);
          else output.note(away);
        }
        outages = (outages ?? -1) + 1;
        await sleep(outagePauseMs(outages), undefined, { signal });
        continue;
      }
      if (outages !== undefined && !view) output.note(`the proxy at ${ctx.options.url} is back`);
      outages = undefined;
      if (view) {
        const foot = output.color.dim(
          `read ${new Date().toLocaleTimeString()}, ${every} · Ctrl-C to stop`,
        );
        tables = renderStats(stats, output.look);
        view.render(`${tables}\n${foot}`);
      } else {
        // A line is printed when what it shows changed: the whole document with --json, the
        // line's columns otherwise (a restart changes the start time, which a line leaves out).
        const line = output.json ? '' : renderStatsLine(stats, new Date());
        const shown = output.json ? fingerprint(stats) : line.slice(line.indexOf('\t') + 1);
        if (shown !== last) {
          last = shown;
          if (output.json) output.jsonLine(stats);
          // Lines reach a terminal too, one that cannot redraw (TERM=dumb): a count is the proxy's.
          else output.data(output.outText(line));
        }
      }
      await sleep(refreshMs, undefined, { signal });
    }
  } catch (error) {
    throw stopped(ctx, error, 'watching the stats');
  } finally {
    view?.close();
  }
}

async function eventLines(
  ctx: CommandContext,
  statuses: readonly TaskStatus[] | undefined,
): Promise<void> {
  const { client, output, signal } = ctx;
  const { url } = ctx.options;
  // Said before the connection is made, so a proxy slow to answer is not silence; "watching"
  // waits for the stream, as an unreachable proxy's error would otherwise follow it.
  output.note(`connecting to the event stream of ${url}; Ctrl-C to stop`);
  const watching = `watching the tasks at ${url}${statuses ? ` (only ${statuses.join(', ')})` : ''}`;
  /** An outage was said: the reconnect that ends it is said too. A quiet one stays quiet. */
  let awaySaid = false;
  const events = client.watchEvents({
    signal,
    ...(statuses && { status: statuses }),
    onOutage: (error) => {
      awaySaid ||= error !== undefined;
      output.note(
        error === undefined
          ? `the proxy at ${url} is back`
          : `the proxy at ${url} is away${outageReason(error)}; reconnecting until it is back`,
      );
    },
    onOpen: ({ reconnected }) => {
      if (reconnected && !awaySaid) return;
      awaySaid = false;
      output.note(reconnected ? `${watching} again` : watching);
    },
  });
  for await (const event of events) {
    if (output.json) output.jsonLine(eventDocument(event));
    else output.data(renderEventLine(event, output.look));
  }
}

async function liveTable(
  ctx: CommandContext,
  statuses: readonly TaskStatus[] | undefined,
): Promise<void> {
  const { client, output, options } = ctx;
  const board = new TaskBoard(statuses);
  // Closes the stream however this ends, a failed list read included.
  const done = new AbortController();
  const signal = AbortSignal.any([ctx.signal, done.signal]);
  /** While the proxy is away, for the foot: without it the foot said "live" all along. */
  let away: string | undefined;
  // Every event, filtered here: a task that leaves the statuses shown must leave the table.
  const events = client.watchEvents({
    signal,
    // The ticker's next frame shows it.
    onOutage: (error) => {
      away = error === undefined ? undefined : outageReason(error);
    },
  });
  // Connecting first, then reading the list, leaves no gap for a change to slip through.
  const first = events.next();
  first.catch(() => {}); // awaited below, once the list is read; never left unhandled
  const reload = async () =>
    board.replace((await client.listTasks({ limit: LIST_LIMIT, signal })).tasks);
  // The table holds the newest LIST_LIMIT tasks at most; the title's counts are of them all.
  let counts: TaskCounts | undefined;
  let countsDue = false;
  const readCounts = async (): Promise<void> => {
    countsDue = false;
    try {
      counts = (await client.getStats({ signal })).tasks;
    } catch {
      // Counts a moment old beat none; the event stream reports a proxy that is gone.
    }
  };
  try {
    await Promise.all([reload(), readCounts()]);
  } catch (error) {
    done.abort();
    throw error;
  }

  const view = output.live();
  const draw = () =>
    view.render(
      renderBoard(board, {
        url: options.url,
        look: output.look,
        now: Date.now(),
        // The live view keeps the terminal's last row for the cursor; a frame of every row
        // would lose its foot to the view's cut.
        rows: view.rows - 1,
        columns: view.columns,
        ...(counts && { counts }),
        ...(away !== undefined && { away }),
      }),
    );
  let pending: NodeJS.Timeout | undefined;
  const soon = () => {
    pending ??= setTimeout(() => {
      pending = undefined;
      draw();
    }, FRAME_MS);
  };
  const ticker = setInterval(draw, TICK_MS);
  const stopResizing = view.onResize(draw);
  draw();
  const countsLoop = (async () => {
    let lastRead = Date.now();
    for (;;) {
      await sleep(COUNTS_MS, undefined, { signal });
      if (!countsDue && Date.now() - lastRead < COUNTS_IDLE_MS) continue;
      lastRead = Date.now();
      await readCounts();
      // A read that was under way when the watch ended must not draw on a closed view.
      if (signal.aborted) return;
      soon();
    }
  })();
  countsLoop.catch(() => {}); // ends with the watch's abort; read errors are kept inside
  try {
    const apply = async (event: TaskEvent) => {
      countsDue = true;
      if (event.type === 'reset') await reload();
      else board.apply(event);
      soon();
    };
    const opened = await first;
    if (!opened.done) await apply(opened.value);
    for await (const event of events) await apply(event);
  } finally {
    done.abort();
    clearInterval(ticker);
    clearTimeout(pending);
    stopResizing();
    draw();
    view.close();
  }
}

/** ` (ECONNREFUSED)`, ` (503)`: what the proxy's absence looked like, for the note. */
export function outageReason(error: unknown): string {
  if (isProxyError(error) && error.status !== undefined) return ` (${error.status})`;
  return error instanceof Error ? causeText(error) : '';
}

function fingerprint(stats: Stats): string {
  return JSON.stringify({ ...stats, uptime_s: 0 });
}

/** Ctrl-C is how a watch ends: exit 130, quietly. A proxy without event streams says so. */
function stopped(ctx: CommandContext, error: unknown, what: string): unknown {
  if (ctx.signal.aborted) {
    return new CliError(EXIT_CODES.interrupted, `stopped ${what}`, undefined, {
      cause: error,
      silent: true,
    });
  }
  if (isProxyResponseError(error) && (error.code === 'not_found' || error.code === 'http_404')) {
    return new CliError(
      EXIT_CODES.proxyError,
      `the proxy at ${ctx.options.url} has no event stream (GET /events answered 404): it is older than this proxy-cli`,
      `${cliCommand(ctx.options, ['--list-tasks'])} shows the tasks; a newer proxy-server streams them to --watch`,
      { cause: error, code: 'no_event_stream' },
    );
  }
  return error;
}
