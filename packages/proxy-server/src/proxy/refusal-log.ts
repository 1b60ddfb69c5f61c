import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../clock.js';
import type { ProxyConfig } from '../config/config.js';
import type { AdmissionRefusal } from './admission.js';
import { quietLine } from './quiet-line.js';

/**
 * The log's word that submissions are refused for want of room: the caller learns it from its
 * 503, the operator, who may want a larger queue, from this line (one a minute at most for each
 * kind, with how many were refused since). The other refusals are no setting's doing (a stop, a
 * reused key) or logged already (the store's failures).
 */
export function refusalLog(
  log: FastifyBaseLogger,
  clock: Clock,
  config: Pick<ProxyConfig, 'maxQueueSize' | 'maxTasks'> & {
    delivery: Pick<ProxyConfig['delivery'], 'tenantMaxQueued'>;
  },
): (reason: AdmissionRefusal) => void {
  const warn = (message: string) => quietLine(clock, (refused) => log.warn({ refused }, message));
  const lines: Partial<Record<AdmissionRefusal, () => void>> = {
    queue_full: warn(
      `submissions refused with 503 queue_full: the queue holds its most (--max-queue-size ${config.maxQueueSize}); callers are told to retry later, raise it if they should wait in line instead`,
    ),
    tasks_full: warn(
      `submissions refused with 503 queue_full: the proxy holds its most tasks (--max-tasks ${config.maxTasks}) and too few have finished to make room; raise it, or keep fewer tasks waiting`,
    ),
    tenant_queue_full: warn(
      `submissions refused with 503 tenant_queue_full: a tenant holds its most queued tasks (--tenant-max-queued ${config.delivery.tenantMaxQueued}); /stats names the busiest tenants under delivery.tenants`,
    ),
  };
  return (reason) => lines[reason]?.();
}
