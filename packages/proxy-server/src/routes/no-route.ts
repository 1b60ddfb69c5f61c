import { METHODS } from 'node:http';
import type { FastifyRequest, HTTPMethods } from 'fastify';
import { ProxyHttpError } from '../errors.js';
import { decodes } from '../percent-escapes.js';
import { nearestRoutes } from './route-hint.js';

/** OPTIONS answers nothing but CORS preflights, and CONNECT is refused everywhere. */
const NAMEABLE_METHODS = METHODS.filter((method) => method !== 'OPTIONS' && method !== 'CONNECT');

/**
 * The answer to a request no route matched: on a path the proxy has routes for, with another
 * method, 405 with `Allow` naming the methods it takes (RFC 9110 §15.5.6), so that
 * `POST /stats` says which method to use rather than that /stats does not exist; elsewhere 404.
 */
export function noRouteError(request: FastifyRequest): ProxyHttpError {
  const asked = `${request.method} ${request.originalUrl}`;
  const path = request.originalUrl.split('?')[0] ?? '';
  // A malformed escape matches the router's handler of bad URLs, which is no route of ours.
  if (!decodes(path)) return new ProxyHttpError('not_found', `No route ${asked}`);
  // A route that takes the method found nothing under the path (a file route): not a 405.
  // OPTIONS is CORS's everywhere, and answers nothing else.
  const method = request.method as HTTPMethods;
  if (method !== 'OPTIONS' && request.server.findRoute({ method, url: request.url })) {
    return new ProxyHttpError('not_found', `Nothing at ${asked}`);
  }
  const allowed = NAMEABLE_METHODS.filter(
    (method) => request.server.findRoute({ method, url: request.url }) !== null,
  ).join(', ');
  if (allowed !== '') {
    const hint = path === '/' ? apiHint(request) : '';
    return new ProxyHttpError(
      'method_not_allowed',
      `${asked}: this route takes ${allowed}${hint}`,
      {
        allow: allowed,
      },
    );
  }
  const meant = withoutTrailingSlash(request, path);
  if (meant) {
    return new ProxyHttpError(
      'not_found',
      `No route ${asked}; the route is ${request.method} ${meant}, without the trailing slash`,
    );
  }
  // The query string is kept, as the /api/ hint keeps it, so the request named is the one to send.
  const query = request.originalUrl.slice(path.length);
  // The router matches dot segments as names, and /api/ in front would keep them: the path they
  // leave is the one meant, if it is a route.
  const resolved = withoutDotSegments(path);
  if (resolved !== undefined) {
    const routed = request.server.findRoute({ method, url: resolved });
    return new ProxyHttpError(
      'not_found',
      `No route ${asked}${routed ? `; did you mean ${request.method} ${resolved}${query}?` : ''}`,
    );
  }
  // A path near one of the proxy's own was meant for the proxy: `/api/stat` would be no help.
  const near = nearestRoutes(request.server.ownRoutes, request.method, path);
  return new ProxyHttpError(
    'not_found',
    near.length > 0
      ? `No route ${asked}; did you mean ${near.map((meant) => meant + query).join(' or ')}?`
      : `No route ${asked}${apiHint(request)}`,
  );
}

/**
 * Where a request meant for the target goes: a newcomer sends the target's own path
 * (`POST /function1`), or posts to the proxy's root, and needs to hear of the `/api/` prefix.
 */
function apiHint(request: FastifyRequest): string {
  const url = request.originalUrl;
  const bare = url === '/' || url.startsWith('/?') || url === '/api' || url.startsWith('/api?');
  const suggested = bare ? '/api/<path on the target>' : `/api${url}`;
  return `; requests for the target go under /api/: ${request.method} ${suggested}`;
}

/** `/tasks/` for `/tasks`: the route meant, rather than a slash left to be spotted. */
function withoutTrailingSlash(request: FastifyRequest, path: string): string | undefined {
  if (path.length <= 1 || !path.endsWith('/')) return undefined;
  const meant = path.replace(/\/+$/, '');
  return request.server.findRoute({ method: request.method, url: meant }) ? meant : undefined;
}

/** `.` and `..`, a dot written `%2e` too, as a URL parser reads them. */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/**
 * `/api/x` for `/./api/x`: the path with its dot segments resolved (RFC 3986 §5.2.4), without
 * the slash one at the end leaves, as no route has one; undefined for a path without any.
 */
function withoutDotSegments(path: string): string | undefined {
  const segments = path.split('/').slice(1);
  if (!segments.some((segment) => DOT_SEGMENT.test(segment))) return undefined;
  const kept: string[] = [];
  for (const segment of segments) {
    if (!DOT_SEGMENT.test(segment)) kept.push(segment);
    else if (segment.replace(/%2e/gi, '.') === '..') kept.pop();
  }
  return `/${kept.join('/')}`;
}
