import type { preValidationAsyncHookHandler } from 'fastify';
import { ProxyHttpError } from '../errors.js';

/**
 * For a route that destroys data: a query parameter it does not take is refused, not ignored as
 * elsewhere. `DELETE /tasks/cleanup?status=failed` would otherwise remove the completed tasks
 * too, and `?max_age_hour=1` (a typo) would fall back to the default age, each answered 200.
 */
export function onlyKnownQuery(
  route: string,
  schema: { properties: Record<string, unknown> },
  whatItDoes: string,
): preValidationAsyncHookHandler {
  const known = Object.keys(schema.properties);
  return async (request) => {
    const unknown = Object.keys(request.query as Record<string, unknown>).find(
      (name) => !known.includes(name),
    );
    if (unknown !== undefined) {
      throw new ProxyHttpError(
        'invalid_query',
        `${route} takes only ${known.join(', ')}, got '${unknown}': ${whatItDoes}`,
      );
    }
  };
}
