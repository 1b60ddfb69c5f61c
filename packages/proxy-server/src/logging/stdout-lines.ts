import sonicBoom from 'sonic-boom';
import type { LogStream } from './logger.js';

// The CommonJS module is the class itself; its types describe a module holding it.
const SonicBoom = sonicBoom as unknown as typeof sonicBoom.SonicBoom;

/**
 * How long the exit may wait for a reader that is there but not reading: lines it has not taken
 * by then are dropped, rather than the process never ending (no signal reaches an exit handler).
 */
const EXIT_FLUSH_MS = 2_000;

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
  stdoutStream ??= linesTo(1, (error) =>
    process.stderr.write(
      `proxy-server: log lines can no longer be written to stdout (${error.code ?? error.message}); serving on without them\n`,
    ),
  );
  return stdoutStream;
}

function linesTo(fd: number, onFailed: (error: NodeJS.ErrnoException) => void): LogStream {
  const destination = new SonicBoom({
    fd,
    retryEAGAIN: () => exitDeadline === undefined || Date.now() < exitDeadline,
  });
  let failed = false;
  const fail = (error: NodeJS.ErrnoException) => {
    if (failed) return;
    failed = true;
    onFailed(error);
  };
  destination.on('error', fail);
  process.once('exit', () => {
    if (failed) return;
    exitDeadline = Date.now() + EXIT_FLUSH_MS;
    try {
      destination.flushSync();
    } catch {
      // Past the exit's last chance: nothing is left to tell.
    }
  });
  return {
    write(line) {
      if (!failed) destination.write(line);
    },
  };
}
