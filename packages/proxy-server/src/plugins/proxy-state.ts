import type { FastifyBaseLogger } from 'fastify';
import fp from 'fastify-plugin';
import type { ProxyConfig } from '../config/config.js';
import { type ProxyDeps, ProxyRuntime } from '../runtime.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The queue, store, workers and upstream client shared by every route. */
    proxy: ProxyRuntime;
  }
}

export interface ProxyStateOptions {
  config: ProxyConfig;
  deps: ProxyDeps;
  log: FastifyBaseLogger;
}

/** Builds the shared runtime once per server and ties its shutdown to the server's close. */
export const proxyState = fp<ProxyStateOptions>(
  async (app, { config, deps, log }) => {
    const runtime = new ProxyRuntime(config, deps, log);
    app.decorate('proxy', runtime);
    app.addHook('onClose', async () => runtime.close());
  },
  { name: 'proxy-state', fastify: '5.x' },
);
