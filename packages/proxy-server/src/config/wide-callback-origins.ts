import type { CallbackOrigin } from './config.js';

export interface WideCallbackOrigin {
  /** The entry as an operator would write it: `https://*.com`. */
  entry: string;
  /** The top-level domain it opens: `.com`. */
  domain: string;
}

/**
 * The `--callback-allow` entries that take every host under a top-level domain (`*.com`): anyone
 * can register a name there, so the proxy could be made to call hosts nobody meant to list.
 * Taken all the same (a test bed may want `*.test`), with a warning.
 */
export function wideCallbackOrigins(allow: readonly CallbackOrigin[]): WideCallbackOrigin[] {
  return allow.flatMap((origin) => {
    if (!origin.host.startsWith('*.')) return [];
    const rest = origin.host.slice(2).replace(/\.$/, '');
    if (rest.includes('.') || rest.startsWith('[')) return [];
    const port = origin.port === '' ? '' : `:${origin.port}`;
    return [{ entry: `${origin.protocol}//${origin.host}${port}`, domain: `.${rest}` }];
  });
}
