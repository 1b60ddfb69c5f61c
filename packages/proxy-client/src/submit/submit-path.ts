/**
 * Every submission goes under the proxy's `/api/` prefix; callers may write `api/x`, `/api/x` or
 * just `x`. A query string in the path is kept. Anything the URL parser would resolve or drop
 * before the request leaves is refused, so that a path built from user input cannot reach the
 * proxy's own routes with the caller's key: a dot segment (`..`, `.`, or either percent-encoded:
 * `api/../tasks/cleanup` is the proxy's cleanup), a backslash (read as a slash), a tab or line
 * break (removed wherever they are: `.\t.` is `..`), a space or control character at either end
 * (trimmed), a `#` (what follows is a fragment, never sent: `?q=C#` would lose its `#`). A URL
 * (`http://...`) is refused too: the target would be asked for `/api/http://...`. Whatever is left is checked once more as the parser resolves it.
 */
export function toSubmitPath(path: string): string {
  if (typeof path !== 'string') {
    throw new TypeError(
      `submitTask needs a path as a string, e.g. "api/function1", got ${path === null ? 'null' : typeof path}`,
    );
  }
  const refuse = (why: string) =>
    new TypeError(`The path must stay under api/: ${why}, got ${JSON.stringify(path)}`);
  if (/[\t\n\r]/.test(path)) throw refuse('a tab or line break is dropped by URLs');
  if (isSpaceOrControl(path.charCodeAt(0)) || isSpaceOrControl(path.charCodeAt(path.length - 1))) {
    throw refuse('a space or control character at either end is trimmed by URLs');
  }
  if (path.includes('#')) {
    throw new TypeError(
      `A "#" in the path starts a fragment, which fetch never sends: write a # meant as data as %23, got ${JSON.stringify(path)}`,
    );
  }
  const trimmed = path.replace(/^\/+/, '');
  if (trimmed === '') throw new TypeError('submitTask needs a path, e.g. "api/function1"');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    throw new TypeError(
      `submitTask takes a path such as "api/function1", not a URL: the proxy's URL goes in baseUrl, got ${JSON.stringify(path)}`,
    );
  }
  const pathPart = trimmed.split('?', 1)[0] ?? '';
  if (pathPart.includes('\\')) throw refuse('a backslash is read as a slash by URLs');
  if (pathPart.split('/').some(isDotSegment)) {
    throw refuse("'.' and '..' segments are not allowed");
  }
  const submitPath = trimmed.startsWith('api/') ? trimmed : `api/${trimmed}`;
  if (!new URL(submitPath, 'http://proxy/').pathname.startsWith('/api/')) {
    throw refuse('it resolves elsewhere');
  }
  return submitPath;
}

/** A segment the URL parser resolves away: `.` or `..`, with any dot written as `%2e`. */
function isDotSegment(segment: string): boolean {
  const dots = segment.replace(/%2e/gi, '.');
  return dots === '.' || dots === '..';
}

/** What the URL parser trims from either end of a URL: C0 controls and the space. */
function isSpaceOrControl(code: number): boolean {
  return code <= 0x20;
}
