import { closestName } from 'proxy-client/wire';
import { DEMO_PROXY_STOPS_ENV } from './options.js';

/** The environment variables proxy-cli reads. */
const READ = ['PROXY_URL', 'PROXY_API_KEY', DEMO_PROXY_STOPS_ENV] as const;

/**
 * A warning for each `PROXY_` variable (in any case) that proxy-cli does not read but that is a
 * near miss of one it does: `PROXY_ULR` would otherwise send every call to the default URL, and
 * `PROXY_API_KY` every call without a key, without a word about the variable. Names far from
 * these are left alone: proxy-server's settings (`PROXY_TARGET_HOST`) and other tools' share the
 * prefix, and often the shell. proxy-server warns of its own settings the same way.
 */
export function misspeltEnvWarnings(env: Readonly<Record<string, string | undefined>>): string[] {
  const warnings: string[] = [];
  for (const name of Object.keys(env)) {
    if (!/^proxy_/i.test(name) || (READ as readonly string[]).includes(name)) continue;
    const meant = closestName(name.toUpperCase(), READ);
    if (meant !== undefined) {
      warnings.push(`${name} is not read by proxy-cli and is ignored; did you mean ${meant}?`);
    }
  }
  return warnings;
}
