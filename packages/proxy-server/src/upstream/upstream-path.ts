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

/**
 * What any `..` segment, in any reading, needs: an escape, a `\`, a `+` (a space to a form
 * decoder), or a dot after a slash.
 */
const MAY_MOVE = /[%\\+]|\/\./;
/** `%2e`, and IIS's `%u002e`. */
const PERCENT_ENCODED = /%(?:u([0-9a-f]{4})|([0-9a-f]{2}))/gi;
/** Decoding rounds at most: `%252e` is `%2e` to a target that decodes once more. */
const DECODINGS = 3;
/** Overlong UTF-8 in two to four bytes, which old decoders took for the character it spells. */
const OVERLONG = /[\xc0\xc1][\x80-\xbf]|\xe0[\x80\x81][\x80-\xbf]|\xf0\x80[\x80\x81][\x80-\xbf]/g;
/**
 * IIS's read two bytes without checking the second was a continuation (`%c0%2e` is `.`, `%c1%1c`
 * is `\`): a reading of its own, as it takes the byte after from whatever follows.
 */
const OVERLONG_UNCHECKED =
  /[\xc0\xc1][\s\S]|\xe0[\x80\x81][\x80-\xbf]|\xf0\x80[\x80\x81][\x80-\xbf]/g;
const LEAD_BITS = [0, 0, 0x1f, 0x0f, 0x07];

/** The character overlong `bytes` spell when it is `.`, `/` or `\`; else the bytes. */
function spelt(bytes: string): string {
  let code = bytes.charCodeAt(0) & (LEAD_BITS[bytes.length] ?? 0);
  for (let i = 1; i < bytes.length; i++) code = (code << 6) | (bytes.charCodeAt(i) & 0x3f);
  const char = String.fromCharCode(code);
  return char === '.' || char === '/' || char === '\\' ? char : bytes;
}
/** What Windows drops around a name (`+`: a space to a form decoder), and what ends a C string. */
const IGNORED_IN_NAME = /[\s\0+]+/g;
/** `..`, and more dots, which Windows reads as `..`. */
const DOTS = /^\.{2,}$/;

/**
 * The path as a target that decodes it once, twice or thrice reads it: each round, as bytes. An
 * escape is a byte; IIS's `%uFF0E` is a character, written as its UTF-8 bytes, which `folded`
 * reads with the byte escapes beside it, or, up to `%u00ff`, as the byte (`%u00c0%u00ae` is then
 * overlong UTF-8). Each round is read with overlong UTF-8 as the checked and the unchecked
 * decoder read it.
 */
function decodingsOf(raw: string): string[] {
  const readings = new Set<string>();
  for (const wideAsByte of [false, true]) {
    let decoded = raw;
    for (let round = 0; round < DECODINGS && decoded.includes('%'); round++) {
      decoded = decoded.replace(PERCENT_ENCODED, (_, wide: string | undefined, hex: string) => {
        const char = String.fromCharCode(Number.parseInt(wide ?? hex, 16));
        return wide === undefined || (wideAsByte && char <= '\xff')
          ? char
          : Buffer.from(char, 'utf8').toString('latin1');
      });
      readings.add(decoded.replace(OVERLONG, spelt));
      readings.add(decoded.replace(OVERLONG_UNCHECKED, spelt));
    }
  }
  return [...readings];
}

/**
 * Whether a segment is `..` to some lenient target: two dots or more, with what follows a `;` (a
 * path parameter, as Tomcat reads it) or a `?` or `#` (where a target that decoded it ends the
 * path) cut off, and blanks and NULs dropped (as Windows reads `.. `), or the segment ended at a
 * NUL (as C strings are).
 */
function isDotDot(segment: string): boolean {
  const name = segment.split(/[;?#]/, 1)[0] ?? '';
  return DOTS.test(name.replace(IGNORED_IN_NAME, '')) || DOTS.test(name.split('\0', 1)[0] ?? '');
}

/** What a submission whose path `staysUnderApi` refuses is told. */
export const PATH_NOT_UNDER_API =
  'The path must begin /api/ as sent, with no .. segment, encoded or not';

/**
 * Whether an origin-form path (query allowed) can only be read as under `/api/`: it begins
 * `/api/` as sent, and no reading of it has a `..` segment. Targets resolve dot segments in too
 * many ways to follow each (before or after decoding, once or three times, empty segments and
 * `;x` kept as names or collapsed, the path ended at a decoded `?`, `#` or NUL), and a path that
 * climbs out and back in under one reading stays out under another: `/api/../admin//../api/y` is
 * `/api/y` with its empty segment collapsed, and `/admin/api/y` to RFC 3986. Without a `..` no
 * reading climbs, and clients resolve dot segments before they send (curl, browsers, fetch), so
 * only a path sent as is has one. Each reading is taken as the most lenient target would: decoded
 * up to three times (`%252e`), IIS's `%u002e` and overlong UTF-8 (`%c0%ae`) too, each also
 * `folded`, with `\` and encoded `/` or `\` separating segments, each segment read as
 * `isDotDot` says. The router matched the path decoded, so `/%61pi/x` came in as `/api/*`; a
 * target that never decodes would read it outside. A path that is fine is forwarded as sent.
 */
export function staysUnderApi(path: string): boolean {
  const queryStart = path.indexOf('?');
  const raw = queryStart === -1 ? path : path.slice(0, queryStart);
  if (!raw.startsWith('/api/')) return false;
  if (!MAY_MOVE.test(raw)) return true;
  return [raw, ...decodingsOf(raw)].every(
    (reading) => !hasDotDot(reading) && !(BEYOND_ASCII.test(reading) && hasDotDot(folded(reading))),
  );
}

/** Only what is beyond ASCII folds into something else: ASCII decodes and folds to itself. */
const BEYOND_ASCII = /[\u0080-\uffff]/;

function hasDotDot(reading: string): boolean {
  return reading.split(/[/\\]/).some(isDotDot);
}

/**
 * What Windows' best fit makes of characters NFKC keeps: `¥` and `₩` are `\` in the Japanese and
 * Korean code pages, `∕` and `∖` are `/` and `\`.
 */
const BEST_FIT = /[\u00a5\u20a9\u2215\u2216]/g;
const BEST_FIT_AS: Record<string, string> = { '¥': '\\', '₩': '\\', '∕': '/', '∖': '\\' };

/** Valid UTF-8, two to four bytes: what a decoder takes for one character. */
const UTF8_SEQUENCE =
  /[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}/g;

/**
 * A reading as a target that folds look-alikes has it (NFKC, or Windows' best fit): `‥` is `..`,
 * `．` and `﹒` are `.`, `／`, `＼` and `¥` separate segments. Its bytes are UTF-8 where they are
 * that, and Latin-1 where not (a lone `%a5` is `¥` to a target that falls back to it).
 */
function folded(reading: string): string {
  return reading
    .replace(UTF8_SEQUENCE, (bytes) => Buffer.from(bytes, 'latin1').toString('utf8'))
    .normalize('NFKC')
    .replace(BEST_FIT, (char) => BEST_FIT_AS[char] ?? char);
}
