import { SERVICE_ENDPOINTS } from 'proxy-client/wire';

/**
 * The first segments of the proxy's own routes (`ui`, `stats`, `task`...). `/api` is left out:
 * under it is the target's, and a --url ending there has a hint of its own (DROP_API).
 */
const ROUTE_ROOTS: ReadonlySet<string> = new Set(
  SERVICE_ENDPOINTS.map((endpoint) => endpoint.path.split('/')[1] ?? '').filter(
    (root) => root !== '' && root !== 'api',
  ),
);

/**
 * The hint to a --url at one of the proxy's own routes or under one (`/ui`, copied from the
 * dashboard's address bar, or `/task/<id>`), naming the base URL before it; undefined for any
 * other. A path in front of the route is kept: a gateway may serve the proxy under one.
 */
export function dropRouteHint(url: string): string | undefined {
  const { origin, pathname } = new URL(url);
  const segments = pathname.replace(/\/+$/, '').split('/');
  const at = segments.findIndex((segment, index) => index > 0 && ROUTE_ROOTS.has(segment));
  if (at === -1) return undefined;
  const route = segments.slice(at).join('/');
  const base = `${origin}${segments.slice(0, at).join('/')}`;
  return `drop /${route} from --url (or PROXY_URL): it is the proxy's own /${route}, not its base URL; use --url ${base}`;
}
