import type { FastifyBaseLogger } from 'fastify';
import fp from 'fastify-plugin';
import type { ProxyConfig } from '../config/config.js';
import { createProxy, type ProxyDeps, type ProxyServices } from '../proxy/proxy.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The proxy's units (admission, task views, stats, ...) shared by every route. */
    proxy: ProxyServices;
  }
}

export interface ProxyStateOptions {
  config: ProxyConfig;
  deps: ProxyDeps;
  log: FastifyBaseLogger;
}

/**
 * Builds the proxy's units once per server, opens the task store when the server gets ready
 * (so a store that cannot be opened fails `ready()`/`listen()`), starts running tasks once it
 * listens, and closes it with the server. Tasks wait for the listen: a start that fails there
 * (a port in use) would otherwise have begun the first calls and cut them off as interrupted.
 */
export const proxyState = fp<ProxyStateOptions>(
  async (app, { config, deps, log }) => {
    const proxy = createProxy(config, deps, log, () => {
      const address = app.server.address();
      return typeof address === 'object' && address !== null ? address.port : undefined;
    });
    app.decorate('proxy', proxy);
    // Before the server stops: it waits for open connections, and event streams never end.
    app.addHook('preClose', async () => proxy.endEventStreams());
    app.addHook('onClose', async () => proxy.close());
    app.addHook('onListen', async () => proxy.start());
    try {
      await proxy.open();
    } catch (error) {
      await proxy.close();
      throw error;
    }
  },
  { name: 'proxy-state', fastify: '5.x' },
);
