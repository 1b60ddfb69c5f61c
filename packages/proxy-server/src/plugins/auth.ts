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

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Requires `Authorization: Bearer <key>` on every route but the open ones. Both sides are hashed
 * first so the comparison is constant-time and never leaks the key's length.
 */
export const auth = fp<AuthOptions>(
  async (app, { apiKey, isOpen = () => false }) => {
    const expected = digest(apiKey);
    app.addHook('onRequest', async (request, reply) => {
      const route = request.routeOptions.url;
      if (route !== undefined && (OPEN_ROUTES.has(route) || isOpen(route))) return;
      const token = BEARER.exec(request.headers.authorization ?? '')?.[1]?.trim();
      if (token !== undefined && timingSafeEqual(digest(token), expected)) return;
      return sendError(reply, 'unauthorized', undefined, { 'www-authenticate': 'Bearer' });
    });
  },
  { name: 'auth', fastify: '5.x' },
);
