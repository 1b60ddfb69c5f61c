import type { HealthBody } from 'proxy-client/wire';
import { showControls } from './control-chars.js';
import { keyValueTable, type Look, type PlainCell, tsv } from './table.js';

/**
 * The parts of the health body the contract requires (`status`, `target.reachable`) as sent, the
 * rest as a proxy other than proxy-server, or an older one, may leave out.
 */
export type SentHealth = Pick<HealthBody, 'success' | 'status'> & {
  target: Pick<HealthBody['target'], 'reachable'> & Partial<HealthBody['target']>;
  store?: Partial<HealthBody['store']>;
};

export function renderHealth(health: SentHealth, proxyUrl: string, look: Look): string {
  const { store, target } = health;
  if (look.plain) {
    const rows: Array<[string, PlainCell]> = [
      ['proxy', proxyUrl],
      ['status', health.status],
      ['target.url', target.url],
      ['target.reachable', target.reachable],
      ['target.latency_ms', target.latency_ms],
      ['target.message', target.message],
      ['store.kind', store?.kind],
      ['store.available', store?.available],
      ['store.message', store?.message],
    ];
    return tsv(rows.filter(([, value]) => value !== undefined));
  }
  const { color, columns } = look;
  // The SDK checks that the status is a string, not which.
  const status =
    health.status === 'ok' ? color.green(health.status) : color.red(showControls(health.status));
  // A reachable target has a message when it took the connection but gave no answer in time.
  const why = target.message ? `: ${showControls(target.message)}` : '';
  const reach = target.reachable
    ? color.green('reachable') +
      (target.latency_ms === null || target.latency_ms === undefined
        ? ''
        : ` (${target.latency_ms} ms)`) +
      color.yellow(why)
    : color.red(`not reachable${why}`);
  const rows: Array<[string, string]> = [
    ['proxy', `${proxyUrl}  ${status}`],
    ['target', target.url === undefined ? reach : `${showControls(target.url)}  ${reach}`],
  ];
  if (store?.available !== undefined) {
    const storeState = store.available
      ? color.green('available')
      : color.red(`not available${store.message ? `: ${showControls(store.message)}` : ''}`);
    rows.push([
      'store',
      store.kind === undefined ? storeState : `${showControls(store.kind)}  ${storeState}`,
    ]);
  }
  return keyValueTable(color, rows, columns);
}
