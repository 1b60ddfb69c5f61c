import type { preValidationAsyncHookHandler, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { DECIMAL, WHOLE } from '../decimal.js';
import { ProxyHttpError } from '../errors.js';

interface QuerySchema {
  properties?: Record<string, { type?: unknown; minimum?: unknown }>;
}

/**
 * Query numbers are written in decimal. Ajv coerces a query string with `Number()`, which also
 * reads `0x10`, `0b1`, `+5`, `1e1` and `060` as numbers: `?wait=0x3` would wait 3 s. So before
 * validation, every query parameter the route's schema types as a number must be decimal digits
 * (with a fraction where the schema allows one); the schema then checks its range. The numeric
 * parameters are found once per route as it is registered, and only routes that have some get
 * the check: a submission pays nothing for it.
 */
export const decimalQuery = fp(
  async (app) => {
    app.addHook('onRoute', (route) => {
      const numbers = numericParameters(route);
      if (numbers.length === 0) return;
      const check: preValidationAsyncHookHandler = async (request) => {
        const query = request.query as Record<string, unknown>;
        for (const { name, whole, least } of numbers) {
          const value = query[name];
          if (typeof value !== 'string') continue;
          const pattern = whole ? WHOLE : DECIMAL;
          if (pattern.test(value)) continue;
          // "-1" is decimal digits too: what is wrong with it is its sign. The schema's minimum
          // is named (limit's is 1), so the message never points at a value refused in turn.
          const why =
            value.startsWith('-') && pattern.test(value.slice(1))
              ? `must be ${least} or more`
              : `must be ${whole ? 'a whole number' : 'a number'} in decimal digits`;
          throw new ProxyHttpError('invalid_query', `${name} ${why}, got '${value}'`);
        }
      };
      route.preValidation = [check, ...[route.preValidation ?? []].flat()];
    });
  },
  { name: 'decimal-query', fastify: '5.x' },
);

function numericParameters(route: RouteOptions): { name: string; whole: boolean; least: number }[] {
  const properties = (route.schema?.querystring as QuerySchema | undefined)?.properties ?? {};
  return Object.entries(properties)
    .filter(([, property]) => property.type === 'integer' || property.type === 'number')
    .map(([name, property]) => ({
      name,
      whole: property.type === 'integer',
      least: typeof property.minimum === 'number' && property.minimum > 0 ? property.minimum : 0,
    }));
}
