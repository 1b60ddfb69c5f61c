/**
 * Every submission goes under the proxy's `/api/` prefix; callers may write `api/x`, `/api/x` or
 * just `x`. A query string in the path is kept. A dot segment (`..`, `.`, or the same
 * percent-encoded) is refused: the URL parser would resolve it before the request leaves, so
 * `api/../tasks/cleanup` would reach the proxy's own routes instead of the target. A backslash
 * counts as a slash there, so it is refused too.
 */
export function toSubmitPath(path: string): string {
  if (typeof path !== 'string') {
    throw new TypeError(
      `submitTask needs a path as a string, e.g. "api/function1", got ${path === null ? 'null' : typeof path}`,
    );
  }
  const trimmed = path.replace(/^\/+/, '');
  if (trimmed === '') throw new TypeError('submitTask needs a path, e.g. "api/function1"');
  const pathPart = trimmed.split(/[?#]/, 1)[0] ?? '';
  if (pathPart.includes('\\')) {
    throw new TypeError(
      `The path must not contain a backslash, which URLs read as a slash, got ${JSON.stringify(path)}`,
    );
  }
  if (pathPart.split('/').some(isDotSegment)) {
    throw new TypeError(
      `The path must stay under api/: '.' and '..' segments are not allowed, got ${JSON.stringify(path)}`,
    );
  }
  return trimmed.startsWith('api/') ? trimmed : `api/${trimmed}`;
}

/** A segment the URL parser resolves away: `.` or `..`, with any dot written as `%2e`. */
export function isDotSegment(segment: string): boolean {
  const dots = segment.replace(/%2e/gi, '.');
  return dots === '.' || dots === '..';
}
