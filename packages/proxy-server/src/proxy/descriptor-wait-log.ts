import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../clock.js';
import { REPEAT_QUIET_MS } from './store-error-log.js';

/**
 * The log's word that calls wait for file descriptors: every waiting call tries again within two
 * seconds, so a line each would flood the log; the first wait is logged, then at most one line
 * per REPEAT_QUIET_MS with how many waits came since.
 */
export function descriptorWaitLog(log: FastifyBaseLogger, clock: Clock): () => void {
  let loggedAt: number | null = null;
  let waits = 0;
  return () => {
    waits++;
    const now = clock.monotonic();
    if (loggedAt !== null && now - loggedAt < REPEAT_QUIET_MS) return;
    loggedAt = now;
    log.warn(
      { waits },
      'the proxy ran out of file descriptors: calls wait for one before they go out; raise its limit (ulimit -n, LimitNOFILE= in systemd) above --max-concurrent plus the client connections it serves, or cap those with --max-connections',
    );
    waits = 0;
  };
}
