import { describe, expect, it } from 'vitest';
import { RecentStrings } from '../../src/engine/memory/recent-strings.js';

// JavaScript cannot tell two equal strings apart, so these tests watch what it holds.
describe('RecentStrings', () => {
  it('gives back an equal string, holding each value once', () => {
    const strings = new RecentStrings();
    const values = ['application/json', 'application/json', '92', 'application/json', '92'];
    expect(values.map((value) => strings.same([...value].join('')))).toEqual(values);
    expect(strings.size).toBe(2);
  });

  it('forgets everything once it holds its capacity, so it never holds more', () => {
    const strings = new RecentStrings(3);
    for (const text of ['a', 'b', 'c', 'a']) strings.same(text);
    expect(strings.size).toBe(3);
    expect(strings.same('d')).toBe('d');
    expect(strings.size).toBe(1);
    for (let i = 0; i < 100; i++) strings.same(String(i));
    expect(strings.size).toBeLessThanOrEqual(3);
  });

  it('does not hold long strings', () => {
    const strings = new RecentStrings();
    const long = 'x'.repeat(513);
    expect(strings.same(long)).toBe(long);
    expect(strings.size).toBe(0);
  });
});
