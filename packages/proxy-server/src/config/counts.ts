/**
 * A number in a warning's prose, grouped in threes (`9,007,199,254,740,991`) so that two long
 * ones can be told apart at a glance. A flag's value is left ungrouped: the flag would refuse
 * it copied back.
 */
export function grouped(value: number | bigint): string {
  return String(value).replace(/\B(?=(\d{3})+$)/g, ',');
}

/** `1 task`, `50 tasks`: `noun` takes an `s` past one. */
export function count(value: number | bigint, noun: string): string {
  return `${grouped(value)} ${noun}${Number(value) === 1 ? '' : 's'}`;
}
