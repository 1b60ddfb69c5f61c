import type { FastifySchemaValidationError } from 'fastify';
import { DECIMAL } from '../decimal.js';

/**
 * A schema failure in words a caller can act on: the field by its name, the value it sent, and
 * what it may send instead (Ajv's own "must be equal to one of the allowed values" names none,
 * and a pattern's message is the regular expression).
 */
export function validationMessage(
  errors: readonly FastifySchemaValidationError[],
  context: string | undefined,
  sent: unknown,
): string | undefined {
  const [first] = errors;
  if (first === undefined) return undefined;
  const field = first.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const name = field === '' ? (context ?? 'request') : field;
  const given = sentAt(sent, field);
  // A repeated query parameter arrives as an array: Ajv's "must be integer" would not say why.
  if (Array.isArray(given)) return `${name} must be sent once, got it ${given.length} times`;
  const got = typeof given === 'string' ? `, got ${shown(given)}` : '';
  const { allowedValues } = first.params as { allowedValues?: unknown[] };
  if (first.keyword === 'enum' && Array.isArray(allowedValues)) {
    return `${name} must be one of ${allowedValues.join(', ')}${got}`;
  }
  if (first.keyword === 'pattern') {
    const choices = /^\^\(([\w|]+)\)/.exec(String(first.params.pattern ?? ''))?.[1];
    if (choices) {
      return `${name} must be one or more of ${choices.split('|').join(', ')}, comma-separated${got}`;
    }
    return `${name} is not in the expected form${got}`;
  }
  return `${name} ${first.message ?? 'is invalid'}${got}`;
}

/**
 * The query string as the caller wrote it: by the time a schema fails, Ajv has coerced the
 * parsed query in place, so `?offset=9007199254740993` would read back as 9007199254740992.
 * A parameter sent more than once is a list, as Fastify's parser gives it.
 */
export function queryAsSent(url: string | undefined): Record<string, string | string[]> {
  const start = url?.indexOf('?') ?? -1;
  const sent: Record<string, string | string[]> = Object.create(null);
  if (url === undefined || start === -1) return sent;
  const params = new URLSearchParams(url.slice(start + 1));
  for (const name of new Set(params.keys())) {
    const values = params.getAll(name);
    sent[name] = values.length === 1 ? (values[0] as string) : values;
  }
  return sent;
}

function sentAt(sent: unknown, field: string): unknown {
  if (field === '' || typeof sent !== 'object' || sent === null) return undefined;
  return (sent as Record<string, unknown>)[field];
}

/** A number as written (`got 1001`); any other text quoted, so a blank or a comma shows. */
function shown(value: string): string {
  return DECIMAL.test(value) ? value : JSON.stringify(value);
}
