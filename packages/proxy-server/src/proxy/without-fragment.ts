/**
 * A callback URL without its #fragment. Submissions with one are refused, but the builds before
 * took them, and their stores keep them (the callback, and the headers a retry reads again): no
 * delivery sends a fragment, and a token written there is not to be shown, logged or carried on.
 */
export function withoutFragment(url: string): string {
  // The first `#` starts the fragment, in a URL as typed and in its href alike.
  const hash = url.indexOf('#');
  return hash === -1 ? url : url.slice(0, hash);
}
