/** A word written short needs this many letters of its own: fewer begin too many names to tell. */
const FEWEST_LETTERS = 4;

/**
 * The known name a typo most likely meant: the same letters but for case, or at most 2 edits
 * away, the nearest winning; else the one name that begins with the word, written short
 * (`throwOnFail`). A word that ends where a name's next part begins (`PROXY_REDIS`, beside
 * `PROXY_REDIS_PREFIX`) is a whole word, likely meant for something else, and a word's own
 * letters are those past what every name begins with (`PROXY_`). One reading for the SDK's
 * options, the CLI's commands and the server's settings, so each suggests alike.
 */
export function closestName(word: string, names: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = name.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word, name);
    if (distance <= 2 && (best === undefined || distance < best.distance)) {
      best = { name, distance };
    }
  }
  if (best !== undefined) return best.name;
  if (word.length - namespaceOf(names).length < FEWEST_LETTERS) return undefined;
  const lower = word.toLowerCase();
  const longer = names.filter(
    (name) =>
      name.toLowerCase().startsWith(lower) && !PART_SEPARATORS.includes(name[word.length] ?? ''),
  );
  return longer.length === 1 ? longer[0] : undefined;
}

const PART_SEPARATORS = ['_', '-', '.'];

/**
 * The parts every one of `names` begins with (`PROXY_`), up to the last separator: letters they
 * share past it (`logLevel` of `logLevelDebug` and `logLevelTrace`, or all of a lone name) are
 * a word's own.
 */
function namespaceOf(names: readonly string[]): string {
  const [first = '', ...rest] = names;
  let length = first.length;
  for (const name of rest) {
    while (length > 0 && !name.startsWith(first.slice(0, length))) length--;
  }
  const shared = first.slice(0, length);
  return shared.slice(0, Math.max(...PART_SEPARATORS.map((mark) => shared.lastIndexOf(mark))) + 1);
}

/**
 * Edits from `a` to `b`: a letter added, dropped or changed, or two beside each other swapped
 * (`retyr`, `helaht`), each one edit (the optimal string alignment distance). One measure for
 * every "did you mean" the proxy, the SDK and the CLI give.
 */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      const changed = x[i - 1] === y[j - 1] ? 0 : 1;
      let edits = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + changed,
      );
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) {
        edits = Math.min(edits, (beforePrevious[j - 2] ?? 0) + 1);
      }
      current.push(edits);
    }
    beforePrevious = previous;
    previous = current;
  }
  return previous[y.length] ?? 0;
}

/** More flags than this with the words is no hint, only a list. */
const MOST_FLAGS_MEANT = 3;

/**
 * The flags a flag written short of its full name most likely meant (`--port`: `--target-port or
 * --listen-port`), too far from each for `closestName`: those that have all its words, in a row,
 * in their name. Undefined when none has them, or too many. How the CLI and the server answer
 * an unknown flag.
 */
export function flagsMeant(flag: string, flags: readonly string[]): string | undefined {
  const words = wordsOf(flag);
  const meant = flags.filter((candidate) => {
    const parts = wordsOf(candidate);
    return parts.some((_, at) => words.every((word, i) => parts[at + i] === word));
  });
  if (meant.length === 0 || meant.length > MOST_FLAGS_MEANT) return undefined;
  return meant.length === 1 ? meant[0] : `${meant.slice(0, -1).join(', ')} or ${meant.at(-1)}`;
}

/** `--Queue-Size=5` → queue, size. */
function wordsOf(flag: string): string[] {
  return flag.replace(/^-+/, '').replace(/=.*/s, '').toLowerCase().split('-');
}

/**
 * A flag whose value is missing takes the next flag as its value, as commander reads it, and the
 * error then falls elsewhere: from a script whose variable was empty, `--target-host $HOST
 * --listen-port 9000` said '9000' was unexpected, and `--task-id $ID --wait` said '--wait' is not
 * a task id. A value that is one of the program's own flags is never meant as one: this finds
 * the flag it was given to (`valued`: the flags that take a value; `flags`: all of them), before
 * `--`. How the CLI and the server tell a missing value.
 */
export function flagGivenAsValue(
  argv: readonly string[],
  valued: ReadonlySet<string>,
  flags: ReadonlySet<string>,
): { flag: string; next: string } | undefined {
  for (const [at, flag] of argv.entries()) {
    if (flag === '--') return undefined;
    const next = argv[at + 1]?.split('=')[0];
    if (valued.has(flag) && next !== undefined && flags.has(next)) return { flag, next };
  }
  return undefined;
}
