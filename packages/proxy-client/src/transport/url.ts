export type QueryValue = string | number | boolean | undefined;

/**
 * Joins the base URL (which may carry a path prefix, e.g. behind a reverse proxy) with a relative
 * path and appends query parameters to any the path already has: ky's `searchParams` would replace
 * a query string the caller wrote into the path.
 */
export function resolveUrl(
  baseUrl: string,
  path: string,
  query: Record<string, QueryValue> = {},
): string {
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`);
  const added = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) added.append(name, String(value));
  }
  // Appended as text, not through `url.searchParams`: that re-serialises the whole query as a
  // form, rewriting the path's own (%20 to +, `flag` to `flag=`, %E9 to %EF%BF%BD), which then
  // reaches the target changed.
  const extra = added.toString();
  if (extra !== '') url.search = url.search === '' ? extra : `${url.search}&${extra}`;
  return url.toString();
}

/**
 * `localhost:8080` reads as a URL of scheme `localhost:`, and `127.0.0.1:8080` as none: both are
 * most likely an address without its `http://`.
 */
function schemeHint(baseUrl: string): string {
  if (
    typeof baseUrl !== 'string' ||
    baseUrl.includes('://') ||
    !/^(\[[\da-f:.]+\]|[\w.-]+):\d+(\/|$)/i.test(baseUrl)
  ) {
    return '';
  }
  return ` (did you mean "http://${baseUrl}"?)`;
}

/** Checks the base URL once, up front, so a typo is a TypeError now rather than a network error later. */
export function normalizeBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch (error) {
    throw new TypeError(
      `baseUrl must be an absolute http(s) URL, got ${JSON.stringify(baseUrl)}${schemeHint(baseUrl)}`,
      { cause: error },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(
      `baseUrl must be an http(s) URL, got ${JSON.stringify(baseUrl)}${schemeHint(baseUrl)}`,
    );
  }
  if (url.username || url.password) {
    url.username = '';
    url.password = '';
    throw new TypeError(
      `baseUrl must not carry credentials (user:password@), which fetch refuses; give the proxy's key as apiKey. Got ${JSON.stringify(url.toString())} with them left out`,
    );
  }
  if (url.search || url.hash) {
    throw new TypeError(
      `baseUrl must not have a query or fragment, got ${JSON.stringify(baseUrl)}`,
    );
  }
  return url.toString().replace(/\/+$/, '');
}
