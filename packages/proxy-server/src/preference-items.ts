/**
 * The preferences of a `Prefer` value (RFC 7240), trimmed, empty ones left out: split at the
 * commas outside quoted strings, which a value or a parameter may be (`foo="a,b"`).
 */
export function preferenceItems(value: string): string[] {
  const items: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const char = value[i];
    if (quoted && char === '\\') i++;
    else if (char === '"') quoted = !quoted;
    else if (char === ',' && !quoted) {
      items.push(value.slice(start, i));
      start = i + 1;
    }
  }
  items.push(value.slice(start));
  return items.map((item) => item.trim()).filter((item) => item !== '');
}

/** A preference's name, lower-cased: what comes before `=`, `;` or a space. */
export function preferenceName(item: string): string {
  return (/^[^=;\s]*/.exec(item)?.[0] ?? '').toLowerCase();
}
