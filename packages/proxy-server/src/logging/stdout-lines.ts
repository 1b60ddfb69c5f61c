import sonicBoom from 'sonic-boom';
import type { LogStream } from './logger.js';

// The CommonJS module is the class itself; its types describe a module holding it.
const SonicBoom = sonicBoom as unknown as typeof sonicBoom.SonicBoom;

/**
 * How long the exit may wait for a reader that is there but not reading: lines it has not taken
 * by then are dropped, rather than the process never ending (no signal reaches an exit handler).
 */
const EXIT_FLUSH_MS = 2_000;

/**
 * Log lines kept for a reader that takes none (a stalled log shipper), rather than memory growing
 * for as long as it stalls: a burst fits, a stall of hours at debug does not.
 */
const MAX_BUFFERED_BYTES = 16 * 1024 ** 2;

let stdoutStream: LogStream | undefined;
/** Set as the process exits: until then a reader that is slow is waited for, as pino did. */
let exitDeadline: number | undefined;

/**
 * Log lines (JSON or pretty) to stdout, written without blocking the event loop, one stream per
 * process, whose last lines are written out as the process exits. pino's own stdout stream
 * (sonic-boom 4) retries a line it cannot write every 100 ms for ever at exit: piped into a
 * reader that had gone (`| head`, a log shipper that died), the proxy never ended, whatever the
 * signal. Here a write that fails ends the log (said once on stderr), not the proxy.
 */
export function stdoutLines(): LogStream {
  if (!stdoutStream) {
    const lines = linesTo(1, {
      maxBufferedBytes: MAX_BUFFERED_BYTES,
      onFailed: (error) =>
        process.stderr.write(
          `proxy-server: log lines can no longer be written to stdout (${error.code ?? error.message}); serving on without them\n`,
        ),
      onDropped: () =>
        process.stderr.write(
          `proxy-server: stdout's reader is taking no log lines: past ${MAX_BUFFERED_BYTES / 1024 ** 2} MiB waiting for it, lines are dropped\n`,
        ),
    });
    process.once('exit', () => lines.flushAtExit());
    stdoutStream = lines;
  }
  return stdoutStream;
}

export interface LinesOptions {
  /** Unwritten bytes kept for a reader that reads nothing; past them a line is dropped. */
  maxBufferedBytes: number;
  onFailed(error: NodeJS.ErrnoException): void;
  /** The first line dropped, once. */
  onDropped(): void;
}

/** Lines to `fd` as `stdoutLines` writes them; exported for its tests. */
export function linesTo(fd: number, options: LinesOptions): LogStream & { flushAtExit(): void } {
  const destination = new SonicBoom({
    fd,
    maxLength: options.maxBufferedBytes,
    retryEAGAIN: () => exitDeadline === undefined || Date.now() < exitDeadline,
  });
  let failed = false;
  destination.on('error', (error: NodeJS.ErrnoException) => {
    if (failed) return;
    failed = true;
    options.onFailed(error);
  });
  destination.once('drop', () => options.onDropped());
  return {
    write(line) {
      if (!failed) destination.write(line);
    },
    flushAtExit() {
      if (failed) return;
      exitDeadline = Date.now() + EXIT_FLUSH_MS;
      try {
        destination.flushSync();
      } catch {
        // Past the exit's last chance: nothing is left to tell.
      }
    },
  };
}
