import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../clock.js';
import { quietLine } from './quiet-line.js';

/**
 * The log's word that calls wait for file descriptors: every waiting call tries again within two
 * seconds, so a line each would flood the log.
 */
export function descriptorWaitLog(log: FastifyBaseLogger, clock: Clock): () => void {
  return quietLine(clock, (waits) =>
    log.warn(
      { waits },
      'the proxy ran out of file descriptors: calls wait for one before they go out; raise its limit (ulimit -n, LimitNOFILE= in systemd) above --max-concurrent plus the client connections it serves, or cap those with --max-connections',
    ),
  );
}
