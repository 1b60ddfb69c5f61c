import fp from 'fastify-plugin';
import { ProxyHttpError } from '../errors.js';

interface QuerySchema {
  properties?: Record<string, { type?: unknown }>;
}

const WHOLE = /^\d+$/;
const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;

/**
 * Query numbers are written in decimal. Ajv coerces a query string with `Number()`, which also
 * reads `0x10`, `0b1`, `+5`, `1e1` and `060` as numbers: `?wait=0x3` would wait 3 s. So before
 * validation, every query parameter the route's schema types as a number must be decimal digits
 * (with a fraction where the schema allows one); the schema then checks its range.
 */
export const decimalQuery = fp(
  async (app) => {
    app.addHook('preValidation', async (request) => {
      const schema = request.routeOptions.schema?.querystring as QuerySchema | undefined;
      if (!schema?.properties) return;
      const query = request.query as Record<string, unknown>;
      for (const [name, property] of Object.entries(schema.properties)) {
        const value = query[name];
        if (typeof value !== 'string' || value === '') continue;
        const whole = property.type === 'integer';
        if (!whole && property.type !== 'number') continue;
        if (!(whole ? WHOLE : DECIMAL).test(value)) {
          throw new ProxyHttpError(
            'invalid_query',
            `${name} must be ${whole ? 'a whole number' : 'a number'} in decimal digits, got '${value}'`,
          );
        }
      }
    });
  },
  { name: 'decimal-query', fastify: '5.x' },
);
