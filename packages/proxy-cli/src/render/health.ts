import type { HealthBody } from 'proxy-client/wire';
import { showControls } from './control-chars.js';
import { keyValueTable, type Look, tsv } from './table.js';

export function renderHealth(health: HealthBody, proxyUrl: string, look: Look): string {
  const { store } = health;
  if (look.plain) {
    return tsv([
      ['proxy', proxyUrl],
      ['status', health.status],
      ['target.url', health.target.url],
      ['target.reachable', health.target.reachable],
      ['target.latency_ms', health.target.latency_ms],
      ['store.kind', store.kind],
      ['store.available', store.available],
      ['store.message', store.message],
    ]);
  }
  const { color, columns } = look;
  const status = health.status === 'ok' ? color.green(health.status) : color.red(health.status);
  const reach = health.target.reachable
    ? color.green('reachable') +
      (health.target.latency_ms === null ? '' : ` (${health.target.latency_ms} ms)`)
    : color.red('not reachable');
  const storeState = store.available
    ? color.green('available')
    : color.red(`not available${store.message === null ? '' : `: ${showControls(store.message)}`}`);
  return keyValueTable(
    color,
    [
      ['proxy', `${proxyUrl}  ${status}`],
      ['target', `${showControls(health.target.url)}  ${reach}`],
      ['store', `${store.kind}  ${storeState}`],
    ],
    columns,
  );
}
