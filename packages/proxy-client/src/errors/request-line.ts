/** Longer than this, a URL is shortened in a message: the error's `url` keeps it whole. */
const MAX_SHOWN_URL = 200;

/**
 * `GET http://…/task/<id>` as an error message names the request. A URL of kilobytes (a pasted
 * file as a task id, a long query) would fill a terminal with the message; its head says which
 * route and its tail which item, so the middle goes.
 */
export function requestLine(method: string, url: string): string {
  if (url.length <= MAX_SHOWN_URL) return `${method} ${url}`;
  const left = url.length - 160;
  return `${method} ${url.slice(0, 120)}…(${left} characters)…${url.slice(-40)}`;
}
