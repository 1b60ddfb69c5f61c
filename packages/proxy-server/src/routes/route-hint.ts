import type { HTTPMethods } from 'fastify';
import fp from 'fastify-plugin';
import { editDistance } from 'proxy-client/wire';

declare module 'fastify' {
  interface FastifyInstance {
    /** The proxy's own routes as registered, to name the one a mistyped path meant. */
    ownRoutes: OwnRoute[];
  }
}

export interface OwnRoute {
  methods: readonly string[];
  /** `/task/:id/result` as `['task', ':id', 'result']`. */
  segments: readonly string[];
}

/** What an extra trailing segment costs: more than a typo, so `/tasks/x` means `/task/x`. */
const EXTRA_SEGMENT_COST = 2;

/**
 * Collects every route as it is added, so the hints follow the routes and never a copy of them.
 * Registered before the routes. HEAD routes are GET's own, and OPTIONS is CORS's: neither is
 * what a caller meant.
 */
export const routeHints = fp(
  async (app) => {
    const routes: OwnRoute[] = [];
    app.decorate('ownRoutes', routes);
    app.addHook('onRoute', (route) => {
      const methods = [route.method]
        .flat()
        .filter((method: HTTPMethods) => method !== 'HEAD' && method !== 'OPTIONS');
      const segments = segmentsOf(route.url);
      // The root is near every one-segment path, the target's own among them.
      if (methods.length > 0 && segments.length > 0) routes.push({ methods, segments });
    });
  },
  { name: 'route-hints', fastify: '5.x' },
);

/**
 * The requests, as `GET /stats`, of the routes nearest to `path` that no route matched: a letter
 * off in a segment (`/stat`, `/apis/x`), another case (`/Stats`), a parameter left out (`/task`)
 * or one segment too many (`/task/<id>/cancle`). None for a path unlike them all, which is most
 * likely the target's (`/v1/chat/completions`).
 */
export function nearestRoutes(routes: readonly OwnRoute[], method: string, path: string): string[] {
  const sent = segmentsOf(path);
  const fits = routes.flatMap((route) => {
    const fit = fitOf(route.segments, sent);
    if (!fit) return [];
    // A route of every method (`/api/*`) is meant with the method sent.
    const shown = route.methods.includes(method) ? method : (route.methods[0] ?? method);
    return [{ cost: fit.cost, request: `${shown} /${fit.path.join('/')}` }];
  });
  const least = Math.min(...fits.map((fit) => fit.cost));
  return [...new Set(fits.filter((fit) => fit.cost === least).map((fit) => fit.request))];
}

/**
 * Whether one of the proxy's own routes takes `method` on `path` as sent: each segment the
 * route's own or a parameter's, none left over (a trailing slash is one). HEAD is GET's.
 */
export function isOwnRoute(routes: readonly OwnRoute[], method: string, path: string): boolean {
  const sent = path.split('/').slice(1);
  const asked = method === 'HEAD' ? 'GET' : method;
  return routes.some(
    (route) =>
      route.methods.includes(asked) &&
      route.segments.length === sent.length &&
      route.segments.every((segment, index) =>
        segment.startsWith(':') ? sent[index] !== '' : segment === sent[index],
      ),
  );
}

function segmentsOf(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '');
}

/** How far `sent` is from the route, and the path it meant; undefined when too far. */
function fitOf(
  route: readonly string[],
  sent: readonly string[],
): { cost: number; path: string[] } | undefined {
  const path: string[] = [];
  let cost = 0;
  for (const [index, segment] of route.entries()) {
    const given = sent[index];
    if (segment === '*') {
      if (given === undefined) return undefined;
      return { cost, path: [...path, ...sent.slice(index)] };
    }
    if (segment.startsWith(':')) {
      path.push(given ?? segment);
      continue;
    }
    if (given === undefined) return undefined;
    // One letter off in a two-letter segment (`/ui`) is as likely another word.
    const allowed = segment.length > 2 ? 1 : 0;
    // A segment longer or shorter by more than that is no typo; measuring it would cost a
    // 404 time in proportion to the length a caller chose.
    if (Math.abs(given.length - segment.length) > allowed) return undefined;
    const distance = editDistance(segment, given.toLowerCase());
    if (distance > allowed) return undefined;
    cost += distance;
    path.push(segment);
  }
  const extra = sent.length - route.length;
  if (extra > 1) return undefined;
  return { cost: cost + Math.max(extra, 0) * EXTRA_SEGMENT_COST, path };
}
