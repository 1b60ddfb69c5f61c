import { readFileSync } from 'node:fs';
import { effectiveConcurrency, type ProxyConfig } from './config.js';

/**
 * Open files a call in flight takes: its socket to the target, and while connections turn over
 * (a finished call's socket not yet closed, the next call's open) up to a quarter more: 2,000
 * calls of a second each held up to 2,440 sockets at once.
 */
const PER_CALL = 1.25;
/** The rest of the process: stdio, the listening socket, the store's files, Node's own. */
const RESERVE = 64;

/**
 * The most files this process may have open (its soft limit, which Node raised to the hard one at
 * start), where the system says it: Linux's /proc/self/limits. Undefined elsewhere, or unlimited.
 */
export function openFilesLimit(
  readLimits: () => string = () => readFileSync('/proc/self/limits', 'utf8'),
): number | undefined {
  let limits: string;
  try {
    limits = readLimits();
  } catch {
    return undefined;
  }
  const soft = /^Max open files\s+(\d+)\s/m.exec(limits)?.[1];
  return soft === undefined ? undefined : Number(soft);
}

/**
 * A warning when the calls let out at once (`min(num-workers, max-concurrent)`) cannot all have a
 * socket: past the limit a call waits for a descriptor (it failed with EMFILE before: 1,597 of
 * 2,000 tasks under a limit of 1,024), and the cap the operator set is not the one that holds.
 */
export function openFilesWarning(
  config: Pick<ProxyConfig, 'numWorkers' | 'maxConcurrent' | 'maxConnections'>,
  limit: number | undefined,
): string | undefined {
  if (limit === undefined) return undefined;
  const clients = config.maxConnections ?? 0;
  const calls = effectiveConcurrency(config);
  const needed = Math.ceil(calls * PER_CALL) + RESERVE + clients;
  if (needed <= limit) return undefined;
  const besides =
    config.maxConnections === null
      ? ', plus one per client connection'
      : ` and one per client connection, --max-connections ${clients}`;
  return (
    `${calls} upstream calls at once (--num-workers, --max-concurrent) need about ${needed} open files (a socket per call in flight${besides}), ` +
    `but this process may open ${limit} (ulimit -n): calls past that wait for one to free, so fewer run at once. ` +
    `Raise the limit (ulimit -n ${Math.ceil(needed / 1024) * 1024} or more; LimitNOFILE= in systemd) or lower --max-concurrent`
  );
}
