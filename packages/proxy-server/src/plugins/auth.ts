import { createHash, timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import { sendError } from '../errors.js';

export interface AuthOptions {
  apiKey: string;
  /** Routes (by their URL pattern) served without the key besides /health. */
  isOpen?: (route: string) => boolean;
}

const OPEN_ROUTES = new Set(['/health']);
const BEARER = /^Bearer\s+(.+)$/i;
export const UNAUTHORIZED_HEADERS = { 'www-authenticate': 'Bearer' };

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Whether an `Authorization` header carries `Bearer <apiKey>`. Both sides are hashed first so the
 * comparison is constant-time and never leaks the key's length.
 */
export function bearerKeyCheck(apiKey: string): (authorization: string | undefined) => boolean {
  const expected = digest(apiKey);
  return (authorization) => {
    const token = BEARER.exec(authorization ?? '')?.[1]?.trim();
    return token !== undefined && timingSafeEqual(digest(token), expected);
  };
}

/** Requires `Authorization: Bearer <key>` on every route but the open ones. */
export const auth = fp<AuthOptions>(
  async (app, { apiKey, isOpen = () => false }) => {
    const hasKey = bearerKeyCheck(apiKey);
    app.addHook('onRequest', async (request, reply) => {
      const route = request.routeOptions.url;
      if (route !== undefined && (OPEN_ROUTES.has(route) || isOpen(route))) return;
      if (hasKey(request.headers.authorization)) return;
      return sendError(reply, 'unauthorized', undefined, UNAUTHORIZED_HEADERS);
    });
  },
  { name: 'auth', fastify: '5.x' },
);
