import sonicBoom from 'sonic-boom';
import type { LogStream } from './logger.js';

// The CommonJS module is the class itself; its types describe a module holding it.
const SonicBoom = sonicBoom as unknown as typeof sonicBoom.SonicBoom;

/**
 * pino's JSON lines to a file descriptor (stdout), written without blocking the event loop. pino's
 * own stdout stream (sonic-boom 4) retries a line it cannot write every 100 ms for ever once the
 * process exits: piped into a reader that had gone (`| head`, a log shipper that died), the proxy
 * never ended, whatever the signal. Here a write that fails ends the log, not the proxy.
 */
export function jsonLines(fd: number): Required<LogStream> {
  const destination = new SonicBoom({ fd });
  let failed = false;
  destination.on('error', () => {
    failed = true;
  });
  return {
    write(line) {
      if (!failed) destination.write(line);
    },
    flushSync() {
      if (failed) return;
      try {
        destination.flushSync();
      } catch {
        failed = true;
      }
    },
  };
}
