/** Units for a count too long to write whole, largest last. */
const UNITS = [
  { size: 1e3, name: 'k' },
  { size: 1e6, name: 'M' },
  { size: 1e9, name: 'G' },
  { size: 1e12, name: 'T' },
] as const;

/**
 * `count` in four characters at most: whole below 10 000, else rounded down to a unit (`98k`,
 * `1.9M`, `123M`). Down, not to the nearest, so a count never reads as more than there are.
 */
export function shortCount(count: number): string {
  // Negated, so that a count a proxy sent as text that is no number is written as it came.
  if (!(count >= 10_000)) return String(count);
  const unit = UNITS.findLast(({ size }) => count >= size) ?? UNITS[0];
  const value = count / unit.size;
  const shown = value < 10 ? Math.floor(value * 10) / 10 : Math.floor(value);
  return `${shown}${unit.name}`;
}
