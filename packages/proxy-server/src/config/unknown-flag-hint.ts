/** More than this many flags with the word is no hint, only a list. */
const MOST_NAMED = 3;

/**
 * Commander suggests a flag a typo away (`--max-concurent`); a flag written short of its full
 * name (`--port`, `--workers`, the names other proxies use) is too far for that. Named instead:
 * the flags that have its words, in a row, in their name (`--target-port`, `--listen-port`).
 */
export function unknownFlagHint(unknown: string, flagNames: readonly string[]): string {
  const words = unknown.replace(/^-+/, '').replace(/=.*/s, '').toLowerCase().split('-');
  const hasWords = (name: string): boolean => {
    const parts = name.split('-');
    return parts.some((_, at) => words.every((word, i) => parts[at + i] === word));
  };
  const meant = flagNames.filter(hasWords).map((name) => `--${name}`);
  if (meant.length === 0 || meant.length > MOST_NAMED) return '';
  const listed =
    meant.length === 1 ? meant[0] : `${meant.slice(0, -1).join(', ')} or ${meant.at(-1)}`;
  return ` (Did you mean ${listed}?)`;
}
