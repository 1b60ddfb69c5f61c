import type { LogFormat } from '../config/config.js';
import type { LogStream } from './logger.js';

export interface Terminal {
  isTTY?: boolean;
}

/**
 * Where the bin's log lines go: readable lines (pino-pretty) when asked for, or on `auto` when
 * stdout is a terminal; else undefined, which leaves pino's JSON lines on stdout. Colour only on
 * a terminal and without NO_COLOR.
 */
export async function logStreamFor(
  format: LogFormat,
  stdout: Terminal,
  env: Readonly<Record<string, string | undefined>>,
): Promise<LogStream | undefined> {
  const pretty = format === 'pretty' || (format === 'auto' && stdout.isTTY === true);
  if (!pretty) return undefined;
  const { default: pinoPretty } = await import('pino-pretty');
  return pinoPretty({
    colorize: stdout.isTTY === true && (env.NO_COLOR ?? '') === '',
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    singleLine: true,
  });
}
