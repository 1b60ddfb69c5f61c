import type { LogFormat } from '../config/config.js';
import type { LogStream } from './logger.js';
import { stdoutLines } from './stdout-lines.js';

export interface Terminal {
  isTTY?: boolean;
}

/**
 * Where the bin's log lines go: readable lines (pino-pretty) when asked for, or on `auto` when
 * stdout is a terminal; else undefined, which leaves JSON lines on stdout. Colour only on a
 * terminal and without NO_COLOR. Either way through the one stdout stream that never blocks:
 * pino-pretty's own, synchronous, held the whole server on a pipe whose reader stopped reading.
 */
export async function logStreamFor(
  format: LogFormat,
  stdout: Terminal,
  env: Readonly<Record<string, string | undefined>>,
): Promise<LogStream | undefined> {
  const pretty = format === 'pretty' || (format === 'auto' && stdout.isTTY === true);
  if (!pretty) return undefined;
  const { prettyFactory } = await import('pino-pretty');
  const prettyLine = prettyFactory({
    colorize: stdout.isTTY === true && (env.NO_COLOR ?? '') === '',
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    singleLine: true,
  });
  const lines = stdoutLines();
  return { write: (line) => lines.write(prettyLine(line)) };
}
