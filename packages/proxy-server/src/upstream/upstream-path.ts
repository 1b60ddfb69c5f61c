/**
 * The request-target in origin form (`/path?query`) whatever form the client used: an
 * absolute-form target (`http://other.example/api/x`) loses its scheme and authority, so no
 * client-chosen host ever reaches the upstream request line.
 */
export function originForm(requestTarget: string): string {
  if (requestTarget.startsWith('/')) return requestTarget;
  const authorityStart = requestTarget.indexOf('://');
  if (authorityStart === -1) return `/${requestTarget}`;
  const pathStart = requestTarget.indexOf('/', authorityStart + 3);
  const queryStart = requestTarget.indexOf('?', authorityStart + 3);
  if (pathStart === -1 || (queryStart !== -1 && queryStart < pathStart)) {
    return queryStart === -1 ? '/' : `/${requestTarget.slice(queryStart)}`;
  }
  return requestTarget.slice(pathStart);
}

/**
 * The path sent on the upstream request line: the target's base path, then the path exactly as
 * submitted. It is written after the configured origin by a client bound to that origin, never
 * resolved as a URL, so `//host`, `..` and encoded slashes all stay paths on the target.
 */
export function upstreamPath(basePath: string, submittedPath: string): string {
  return basePath + submittedPath;
}
