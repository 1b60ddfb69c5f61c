import { closestName } from 'proxy-client/wire';

/** `PROXY_` variables of the project that are no setting of the server: proxy-cli's. */
const NOT_OURS = new Set(['PROXY_URL']);

/**
 * A warning for each `PROXY_` variable (in any case) that is not a setting but a near miss of
 * one: a misspelt flag is refused with a suggestion, and a misspelt variable would otherwise be
 * ignored without a word, leaving a default in force. Names far from every setting are left
 * alone: `PROXY_` is a prefix other tools use too.
 */
export function misspeltEnvWarnings(
  env: Readonly<Record<string, string | undefined>>,
  settings: readonly string[],
): string[] {
  const known = new Set(settings);
  const warnings: string[] = [];
  for (const name of Object.keys(env)) {
    if (!/^proxy_/i.test(name) || known.has(name) || NOT_OURS.has(name.toUpperCase())) continue;
    const meant = closestName(name.toUpperCase(), settings);
    if (meant !== undefined) {
      warnings.push(
        `${name} is not a setting of proxy-server and is ignored; did you mean ${meant}?`,
      );
    }
  }
  return warnings;
}
