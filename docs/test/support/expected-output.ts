/**
 * Whether `output` shows what a doc's `text expected` block promises: every non-blank expected
 * line appears as an output line, in the same order, other output lines may come in between, and
 * `...` inside an expected line stands for any text (ids, times). Returns the first expected line
 * that was not found, or undefined when all were.
 */
export function missingExpectedLine(output: string, expected: string): string | undefined {
  const lines = output.split('\n').map((line) => line.trimEnd());
  let at = 0;
  for (const want of expected.split('\n').map((line) => line.trimEnd())) {
    if (want.trim() === '') continue;
    const pattern = new RegExp(`^${want.split('...').map(escapeRegExp).join('.*')}$`);
    while (at < lines.length && !pattern.test(lines[at] ?? '')) at++;
    if (at === lines.length) return want;
    at++;
  }
  return undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
