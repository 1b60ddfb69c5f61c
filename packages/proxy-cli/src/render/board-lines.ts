import type { TaskStatus } from 'proxy-client/wire';
import { showControls } from './control-chars.js';
import { shortCount } from './count.js';
import { displayWidth } from './display-width.js';
import { paintStatus } from './status.js';
import type { Look } from './table.js';

/** How many tasks have a status: a status a newer proxy sends is kept as it is named. */
export interface StatusCount {
  status: TaskStatus | string;
  count: number;
}

/**
 * The statuses in four letters at most, for a title of four or more counts at 40 columns. Keyed
 * by name, as the colours are: a status a newer proxy sends keeps its name.
 */
const SHORT_STATUSES: Readonly<Record<string, string>> = {
  pending: 'pend',
  processing: 'proc',
  completed: 'done',
  failed: 'fail',
  cancelled: 'cncl',
  expired: 'exp',
};

/**
 * The statuses in a letter, for a title of six counts at 40 columns, where four letters are too
 * many: `processing` is `r`, as in running, beside `pending`'s `p`.
 */
const LETTER_STATUSES: Readonly<Record<string, string>> = {
  pending: 'p',
  processing: 'r',
  completed: 'd',
  failed: 'f',
  cancelled: 'c',
  expired: 'e',
};

/** What the board's title says: what is watched, then the counts by status. */
export interface TitleParts {
  url: string;
  statuses?: readonly TaskStatus[] | undefined;
  /** The counts by status, none while there are no tasks. */
  counts: readonly StatusCount[];
  /** Without the proxy's own counts: how many of the newest tasks were counted. */
  counted?: number | undefined;
}

/**
 * The title on one line where the terminal allows: the program's name, the URL's scheme, the
 * note that only the loaded tasks were counted and the room between the counts give way, in
 * that order, to what is watched and the counts. Four or more counts outgrow 40 columns even
 * so: the statuses filtered on (the counts name them), the statuses' full names and the host
 * give way too; then the space between a count and its status, the status's four letters for
 * one, and last the exact count of a large one. The last form fits all six statuses in 40.
 */
export function boardTitle(parts: TitleParts, look: Look, columns: number | undefined): string {
  const { url, statuses, counts, counted } = parts;
  const { bold } = look.color;
  const only = statuses ? ` (only ${statuses.join(', ')})` : '';
  const host = url.replace(/^https?:\/\//, '').replace(/\/$/, '');
  const written = (
    name: (status: string) => string,
    separator: string,
    { gap = ' ', count = String }: { gap?: string; count?: (count: number) => string } = {},
  ) =>
    counts.length === 0
      ? 'no tasks yet'
      : counts
          // A status and a count from the stats are whatever text the proxy sent (paintStatus
          // escapes the status).
          .map(
            (entry) =>
              `${showControls(count(entry.count))}${gap}${paintStatus(entry.status, look.color, name(entry.status))}`,
          )
          .join(separator);
  const summary = (separator: string) => written((status) => status, separator);
  const shortName = (status: string) => SHORT_STATUSES[status] ?? status;
  const letter = (status: string) => LETTER_STATUSES[status] ?? status;
  const qualified =
    counted === undefined || counts.length === 0
      ? summary(' · ')
      : `of the ${counted} newest, ${summary(' · ')}`;
  return firstThatFits(
    [
      `${bold(`proxy-cli watch ${url}`)}${only}: ${qualified}`,
      `${bold(`watch ${host}`)}${only}: ${qualified}`,
      `${bold(host)}${only}: ${qualified}`,
      `${bold(host)}${only}: ${summary(' · ')}`,
      `${bold(host)}${only}: ${summary(', ')}`,
      `${bold(host)}: ${summary(', ')}`,
      `${bold(host)}: ${written(shortName, ', ')}`,
      written(shortName, ', '),
      written(shortName, ' '),
      written(shortName, ' ', { gap: '' }),
      written(letter, ' ', { gap: '' }),
      // Six counts of four characters and a letter each: 35 columns.
      written(letter, ' ', { gap: '', count: shortCount }),
    ],
    columns,
  );
}

export interface FootParts {
  /** Tasks the table shows, and of how many the board holds. */
  shown: number;
  held: number;
  /** While the proxy is away: what its absence looked like (` (ECONNREFUSED)`). */
  away?: string | undefined;
}

/**
 * The foot on one line where the terminal allows: how many rows are shown and where they come
 * from said ever more briefly, so that how to stop always shows.
 */
export function boardFoot(parts: FootParts, look: Look, columns: number | undefined): string {
  const { shown, held, away } = parts;
  const partial = shown < held;
  const more = partial ? `the ${shown} newest of ${held} · ` : '';
  const fewer = partial ? `${shown} of ${held} · ` : '';
  const fullest =
    away === undefined
      ? "live from the proxy's events"
      : `the proxy is away${away}; reconnecting until it is back`;
  const briefer =
    away === undefined
      ? ['live']
      : [`proxy away${away}, reconnecting`, `proxy away${away}`, 'proxy away'];
  const lines = [
    `${more}${fullest}`,
    `${fewer}${fullest}`,
    ...briefer.map((source) => `${fewer}${source}`),
  ];
  return look.color.dim(
    firstThatFits(
      lines.map((line) => `${line} · Ctrl-C to stop`),
      columns,
    ),
  );
}

/** The first of `lines`, fullest first, that fits in `columns`; else the last and briefest. */
function firstThatFits(lines: readonly string[], columns: number | undefined): string {
  const fits = (line: string) => columns === undefined || displayWidth(line) <= columns;
  return lines.find(fits) ?? lines.at(-1) ?? '';
}
