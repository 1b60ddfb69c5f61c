import type { ChalkInstance } from 'chalk';
import type { HealthBody } from 'proxy-client/wire';
import { keyValueTable } from './table.js';

export function renderHealth(health: HealthBody, proxyUrl: string, color: ChalkInstance): string {
  const status = health.status === 'ok' ? color.green(health.status) : color.red(health.status);
  const reach = health.target.reachable
    ? color.green('reachable') +
      (health.target.latency_ms === null ? '' : ` (${health.target.latency_ms} ms)`)
    : color.red('not reachable');
  return keyValueTable(color, [
    ['proxy', `${proxyUrl}  ${status}`],
    ['target', `${health.target.url}  ${reach}`],
  ]);
}
