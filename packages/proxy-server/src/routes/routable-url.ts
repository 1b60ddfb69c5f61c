import type { IncomingMessage } from 'node:http';
import { decodes } from '../percent-escapes.js';

/**
 * The URL the router is shown. It decodes a path to match it, and refuses one whose escapes
 * decode to no UTF-8 (`/api/caf%E9.txt`, a Latin-1 file name a target may well serve) or are no
 * escapes (`%ZZ`). Such a path is shown with its percent signs escaped, so it matches as the
 * text it is; routes read `originalUrl`, which is as sent.
 */
export function routableUrl(request: IncomingMessage): string {
  const url = request.url ?? '/';
  if (!url.includes('%')) return url;
  const queryStart = url.indexOf('?');
  const path = queryStart === -1 ? url : url.slice(0, queryStart);
  return decodes(path) ? url : path.replaceAll('%', '%25') + url.slice(path.length);
}
