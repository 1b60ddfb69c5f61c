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
  const value = valueAt(sent, field);
  const got = value === undefined ? '' : `, got ${shown(value)}`;
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

function valueAt(sent: unknown, field: string): string | number | undefined {
  if (field === '' || typeof sent !== 'object' || sent === null) return undefined;
  const value = (sent as Record<string, unknown>)[field];
  return typeof value === 'string' || typeof value === 'number' ? value : undefined;
}

/** JSON would show an infinite number (`max_age_hours=Infinity`, coerced) as null. */
function shown(value: string | number): string {
  return typeof value === 'number' && !Number.isFinite(value)
    ? String(value)
    : JSON.stringify(value);
}
