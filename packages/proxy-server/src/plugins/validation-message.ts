import type { FastifySchemaValidationError } from 'fastify';

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
  const got = typeof given === 'string' || typeof given === 'number' ? `, got ${shown(given)}` : '';
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

function sentAt(sent: unknown, field: string): unknown {
  if (field === '' || typeof sent !== 'object' || sent === null) return undefined;
  return (sent as Record<string, unknown>)[field];
}

/** JSON would show an infinite number (`max_age_hours=Infinity`, coerced) as null. */
function shown(value: string | number): string {
  return typeof value === 'number' && !Number.isFinite(value)
    ? String(value)
    : JSON.stringify(value);
}
