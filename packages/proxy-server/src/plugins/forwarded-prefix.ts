import proxyAddr from '@fastify/proxy-addr';
import fp from 'fastify-plugin';
import type { TrustProxy } from '../config/config.js';
import { sendError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The path a trusted gateway serves the proxy under (`/proxy`), from its X-Forwarded-Prefix;
     * '' at the root. The URLs the proxy gives out (a 202's `Location` and `status_url`, the
     * OpenAPI document's server) start with it.
     */
    publicPrefix: string;
  }
}

/** Whether the peer `hop` steps back from the proxy (0: the socket's) is one of the gateways. */
export type TrustFunction = (address: string, hop: number) => boolean;

/** `--trust-proxy` as Fastify takes it, so that `request.ip` and the prefix believe the same peers. */
export function trustFunction(trust: TrustProxy): TrustFunction {
  if ('hops' in trust) return (_address, hop) => hop < trust.hops;
  return proxyAddr.compile(trust.addresses);
}

const PREFIX_MAX_LENGTH = 1024;
// Path segments of RFC 3986's pchar, the comma aside: it separates the prefixes of gateways in
// turn.
const PREFIX = /^(?:\/(?:[A-Za-z0-9\-._~!$&'()*+;=:@]|%[0-9A-Fa-f]{2})*)+$/;

/**
 * A trusted gateway's X-Forwarded-Prefix as one path: `/proxy/` and `/proxy` alike, `/a, /b` (two
 * gateways, each adding its own) as `/a/b`, `/` as the root. Undefined for anything else, which
 * would put another origin (`//evil.example`), a query or a dot segment into the URLs given out.
 */
export function prefixOf(header: string): string | undefined {
  if (header.length > PREFIX_MAX_LENGTH) return undefined;
  let prefix = '';
  for (const part of header.split(',')) {
    const path = part.trim().replace(/\/$/, '');
    if (path === '') {
      if (part.trim() === '/') continue;
      return undefined;
    }
    if (!PREFIX.test(path)) return undefined;
    // `%2e%2e` is `..` to every URL parser that resolves the URLs given out.
    const segments = path
      .split('/')
      .slice(1)
      .map((segment) => segment.replace(/%2e/gi, '.'));
    if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
      return undefined;
    }
    prefix += path;
  }
  return prefix;
}

/**
 * Reads X-Forwarded-Prefix from a gateway `--trust-proxy` names, and only from one: any other
 * client could point the URLs given out anywhere it likes. A bad one is refused before any route
 * runs, so a gateway's mistake is seen at once and no task is taken under a wrong URL.
 */
export const forwardedPrefix = fp<{ trust: TrustFunction | null }>(
  async (app, { trust }) => {
    app.decorateRequest('publicPrefix', '');
    if (trust === null) return;
    app.addHook('onRequest', (request, reply, done) => {
      const sent = request.headers['x-forwarded-prefix'];
      const peer = request.raw.socket.remoteAddress;
      if (sent === undefined || peer === undefined || !trust(peer, 0)) return done();
      // Node joins a repeated header with commas, as gateways in turn would write it.
      const header = Array.isArray(sent) ? sent.join(',') : sent;
      const prefix = prefixOf(header);
      if (prefix === undefined) {
        const shown = header.length > 100 ? `${header.slice(0, 100)}...` : header;
        sendError(
          reply,
          'bad_request',
          `X-Forwarded-Prefix ${JSON.stringify(shown)} from the gateway is not a path such as /proxy`,
        );
        return;
      }
      request.publicPrefix = prefix;
      done();
    });
  },
  { name: 'forwarded-prefix', fastify: '5.x' },
);
