const PERCENT_ENCODED = /%([0-9a-f]{2})/gi;

/**
 * A base URL whose path ends in /api: the proxy's submission prefix, not its base. The proxy's
 * router decodes the path before it matches, so `/%61pi` is `/api` there; the URL parser keeps
 * such escapes as typed. Only well-formed `%XX` octets are decoded, so a stray `%` never throws.
 */
export function endsUnderApi(url: string): boolean {
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    return false;
  }
  const segments = pathname.split('/').map(decodeOctets);
  const last = segments.at(-1) === '' ? segments.at(-2) : segments.at(-1);
  return last === 'api';
}

function decodeOctets(segment: string): string {
  return segment.replace(PERCENT_ENCODED, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}
