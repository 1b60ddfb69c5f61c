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

/** Whatever could make a path read differently once decoded and normalised. */
const MAY_MOVE = /[%\\]|\/\./;
const PERCENT_ENCODED = /%([0-9a-f]{2})/gi;

/**
 * Whether an origin-form path (query allowed) is still under `/api/` once percent-decoded and rid
 * of dot segments, read as the most lenient target would: `\` and encoded `/` or `\` separate
 * segments, empty segments collapse, and `..;x` is `..` (a path parameter, as Tomcat reads it).
 * The router matched the path as sent, so `/%61pi/../admin` came in as `/api/*`; a target that
 * normalises would serve it `/admin`. A path that is fine is still forwarded as sent.
 */
export function staysUnderApi(path: string): boolean {
  const queryStart = path.indexOf('?');
  const raw = queryStart === -1 ? path : path.slice(0, queryStart);
  if (!MAY_MOVE.test(raw)) return raw.startsWith('/api/');
  const decoded = raw.replace(PERCENT_ENCODED, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
  const kept: string[] = [];
  let endsInSlash = false;
  for (const segment of decoded.split(/[/\\]/).slice(1)) {
    const name = segment.split(';', 1)[0];
    if (name === '..') kept.pop();
    else if (name !== '.' && name !== '') kept.push(segment);
    endsInSlash = name === '..' || name === '.' || name === '';
  }
  return kept[0] === 'api' && (kept.length > 1 || endsInSlash);
}
