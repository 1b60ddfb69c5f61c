/**
 * Every submission goes under the proxy's `/api/` prefix; callers may write `api/x`, `/api/x` or
 * just `x`. A query string in the path is kept.
 */
export function toSubmitPath(path: string): string {
  const trimmed = path.replace(/^\/+/, '');
  if (trimmed === '') throw new TypeError('submitTask needs a path, e.g. "api/function1"');
  return trimmed.startsWith('api/') ? trimmed : `api/${trimmed}`;
}
