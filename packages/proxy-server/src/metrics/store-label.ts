import type { StoreConfig } from '../config/config.js';
import { displayUrl } from '../engine/redis/connections.js';

/**
 * The `store` label of the store's figures and of `proxy_info`: one name for one store, the same
 * on every instance that reads it, so that figures aggregate `by (store)` and two stores' never
 * mix. A local store (memory, SQLite) has one proxy, whose instance name names it; a Redis store
 * is its server (no credentials) and key prefix, which every instance sharing it names alike.
 */
export function storeLabel(store: StoreConfig, instance: string): string {
  return store.kind === 'redis' ? `${displayUrl(store.url)} (prefix ${store.prefix})` : instance;
}
