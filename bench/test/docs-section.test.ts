import { describe, expect, it } from 'vitest';
import { BEGIN, END, replaceResultsSection } from '../src/docs-section.mjs';

describe('replaceResultsSection', () => {
  it('replaces only what lies between the markers', () => {
    const doc = `# Benchmarks\n\nIntro.\n\n${BEGIN}\nold table\n${END}\n\n## Analysis\n\nKept.\n`;
    const next = replaceResultsSection(doc, 'new table\n');
    expect(next).toBe(
      `# Benchmarks\n\nIntro.\n\n${BEGIN}\n\nnew table\n\n${END}\n\n## Analysis\n\nKept.\n`,
    );
    expect(replaceResultsSection(next, 'new table')).toBe(next);
  });

  it('appends the section to a document without markers, or makes one', () => {
    expect(replaceResultsSection('# Benchmarks\n', 'table')).toBe(
      `# Benchmarks\n\n${BEGIN}\n\ntable\n\n${END}\n`,
    );
    expect(replaceResultsSection('', 'table')).toBe(`${BEGIN}\n\ntable\n\n${END}\n`);
  });

  it('refuses to guess when one marker is missing or they are out of order', () => {
    expect(() => replaceResultsSection(`${BEGIN}\nx`, 't')).toThrow(/markers are broken/);
    expect(() => replaceResultsSection(`x\n${END}`, 't')).toThrow(/markers are broken/);
    expect(() => replaceResultsSection(`${END}\n${BEGIN}`, 't')).toThrow(/markers are broken/);
  });
});
