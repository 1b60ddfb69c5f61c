/**
 * Just enough shell to read the command lines the docs show: continuation lines, comments,
 * quotes and `$NAME` / `${NAME}` expansion. Anything fancier is not a literal command line and
 * the caller should not treat it as one.
 */

/** Joins `\`-continued lines so each entry is one command as the shell sees it. */
export function logicalLines(text: string): string[] {
  return text
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** Splits one command line into words; stops at an unquoted `#` that starts a word. */
export function shellWords(line: string, env: Record<string, string | undefined> = {}): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  const expand = (at: number): number => {
    const match = /^\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))/.exec(line.slice(at));
    if (!match) {
      word = (word ?? '') + '$';
      return at + 1;
    }
    word = (word ?? '') + (env[match[1] ?? match[2] ?? ''] ?? '');
    return at + match[0].length;
  };
  for (let i = 0; i < line.length; ) {
    const c = line[i] ?? '';
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word = (word ?? '') + c;
      i++;
    } else if (quote === '"') {
      if (c === '"') {
        quote = undefined;
        i++;
      } else if (c === '\\' && /["\\$`]/.test(line[i + 1] ?? '')) {
        word = (word ?? '') + line[i + 1];
        i += 2;
      } else if (c === '$') {
        i = expand(i);
      } else {
        word = (word ?? '') + c;
        i++;
      }
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      i++;
    } else if (c === '#' && word === undefined) {
      break;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
      i++;
    } else if (c === '\\') {
      word = (word ?? '') + (line[i + 1] ?? '');
      i += 2;
    } else if (c === '$') {
      i = expand(i);
    } else {
      word = (word ?? '') + c;
      i++;
    }
  }
  if (quote) throw new Error(`unclosed ${quote} in: ${line}`);
  if (word !== undefined) words.push(word);
  return words;
}

/** A command line split into its leading `NAME=value` assignments, the command and its arguments. */
export interface ParsedCommand {
  env: Record<string, string>;
  command: string;
  args: string[];
}

/** Reads `[NAME=value ...] [npx] command args...`; `npx` is dropped so the bin name is the command. */
export function parseCommand(
  line: string,
  env: Record<string, string | undefined> = {},
): ParsedCommand {
  const words = shellWords(line, env);
  const assignments: Record<string, string> = {};
  while (words[0] && /^[A-Za-z_]\w*=/.test(words[0])) {
    const [name = '', ...value] = (words.shift() ?? '').split('=');
    assignments[name] = value.join('=');
  }
  if (words[0] === 'npx') words.shift();
  const [command = '', ...args] = words;
  return { env: assignments, command, args };
}
