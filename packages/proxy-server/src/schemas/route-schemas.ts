import { ErrorBodySchema } from 'proxy-client/wire';

/**
 * What the routes add to the wire contract's schemas (`proxy-client/wire`, the one place bodies,
 * queries and headers are defined): every route answers its errors with the envelope.
 */
export const errorResponses = { '4xx': ErrorBodySchema, '5xx': ErrorBodySchema } as const;
