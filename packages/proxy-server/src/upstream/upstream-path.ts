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
/** `%2e`, and IIS's `%u002e`. */
const PERCENT_ENCODED = /%(?:u([0-9a-f]{4})|([0-9a-f]{2}))/gi;
/** Decoding rounds at most: `%252e` is `%2e` to a target that decodes once more. */
const DECODINGS = 3;
/** Overlong UTF-8 for `.`, `/` and `\`, which old decoders took for the character. */
const OVERLONG = /\xc0\xae|\xe0\x80\xae|\xc0\xaf|\xe0\x80\xaf|\xc1\x9c/g;
const OVERLONG_AS: Record<string, string> = {
  '\xc0\xae': '.',
  '\xe0\x80\xae': '.',
  '\xc0\xaf': '/',
  '\xe0\x80\xaf': '/',
  '\xc1\x9c': '\\',
};
/** What Windows drops around a name, and what ends a C string. */
const IGNORED_IN_NAME = /[\s\0]+/g;

/** The path as a target that decodes it once, twice or thrice reads it: each round, in order. */
function decodingsOf(raw: string): string[] {
  const rounds: string[] = [];
  let decoded = raw;
  for (let round = 0; round < DECODINGS && decoded.includes('%'); round++) {
    decoded = decoded.replace(PERCENT_ENCODED, (_, wide: string | undefined, hex: string) =>
      String.fromCharCode(Number.parseInt(wide ?? hex, 16)),
    );
    rounds.push(decoded.replace(OVERLONG, (bytes) => OVERLONG_AS[bytes] ?? bytes));
  }
  return rounds;
}

/**
 * A segment as a lenient target reads it, blanks and NULs aside: `..` (two dots or more), `.`
 * (one, or none: an empty segment collapses), or null for a name.
 */
function dotsOf(segment: string): '.' | '..' | null {
  const name = (segment.split(';', 1)[0] ?? '').replace(IGNORED_IN_NAME, '');
  if (!/^\.*$/.test(name)) return null;
  return name.length < 2 ? '.' : '..';
}

/**
 * Whether an origin-form path (query allowed) is still under `/api/` once percent-decoded and rid
 * of dot segments, read as the most lenient target would: decoded up to three times (`%252e`),
 * IIS's `%u002e` and overlong UTF-8 (`%c0%ae`) too; `\` and encoded `/` or `\` separate
 * segments, empty segments collapse, `..;x` is `..` (a path parameter, as Tomcat reads it), and
 * so is a name of dots alone once blanks and NULs are dropped (`.. `, `...`, as Windows reads
 * them). A target may resolve the dot segments before it decodes, or without decoding at all
 * (WHATWG's URL parser keeps `%2F`: `/api/a%2Fb/../..` is `/` to it), and end the path at the
 * first `?` or `#` it decoded (`..%3F/x` is `..` to it), which depends on how often it decodes:
 * the path as sent and after each decoding is read every way. The router matched the path as
 * sent, so `/%61pi/../admin` came in as `/api/*`; a target that normalises would serve it
 * `/admin`. A path that is fine is still forwarded as sent.
 */
export function staysUnderApi(path: string): boolean {
  const queryStart = path.indexOf('?');
  const raw = queryStart === -1 ? path : path.slice(0, queryStart);
  if (!MAY_MOVE.test(raw)) return raw.startsWith('/api/');
  return [raw, ...decodingsOf(raw)].every(
    (reading) => staysOnceResolved(reading) && staysOnceResolved(reading.split(/[?#]/, 1)[0] ?? ''),
  );
}

/**
 * Whether `reading` is under `/api/` with its dot segments resolved as it stands, then decoded and
 * resolved again. A target may resolve at any of those steps, so each must still begin with the
 * segment the router took for `api`, however encoded: `/api/../x/%2e%2e/api/y` is
 * `/x/%2e%2e/api/y` to a target that resolves without decoding.
 */
function staysOnceResolved(reading: string): boolean {
  const first = resolved(reading);
  if (!readsAsApi(first.kept[0])) return false;
  const path = `/${first.kept.join('/')}${first.endsInSlash && first.kept.length > 0 ? '/' : ''}`;
  const decodings = decodingsOf(path);
  if (!decodings.every((decoded) => readsAsApi(resolved(decoded).kept[0]))) return false;
  const { kept, endsInSlash } = resolved(decodings.at(-1) ?? path);
  return kept[0] === 'api' && (kept.length > 1 || endsInSlash);
}

/** Whether a segment reads `api` once decoded, or begins `api/` (`api%2Fx`). */
function readsAsApi(segment: string | undefined): boolean {
  if (segment === undefined) return false;
  return (decodingsOf(segment).at(-1) ?? segment).split(/[/\\]/, 1)[0] === 'api';
}

/** A path's segments once its dot segments are resolved, and whether it ends in a slash. */
function resolved(path: string): { kept: string[]; endsInSlash: boolean } {
  const kept: string[] = [];
  let endsInSlash = false;
  for (const segment of path.split(/[/\\]/).slice(1)) {
    const dots = dotsOf(segment);
    if (dots === '..') kept.pop();
    else if (dots === null) kept.push(segment);
    endsInSlash = dots !== null;
  }
  return { kept, endsInSlash };
}
