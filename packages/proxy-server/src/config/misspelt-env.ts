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
    const meant = nearest(name.toUpperCase(), settings);
    if (meant !== undefined) {
      warnings.push(
        `${name} is not a setting of proxy-server and is ignored; did you mean ${meant}?`,
      );
    }
  }
  return warnings;
}

/** The setting at most 2 edits away, the nearest first. */
function nearest(name: string, settings: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const setting of settings) {
    const distance = editDistance(name, setting);
    if (distance <= 2 && (best === undefined || distance < best.distance)) {
      best = { name: setting, distance };
    }
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
