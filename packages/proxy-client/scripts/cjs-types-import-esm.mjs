// @ts-check
// TypeBox ships ES modules only. The CommonJS builds bundle its code (tsup.config.ts), but their
// declarations still name its types, and a CommonJS project type-checking `*.d.cts` may load an
// ES module's types only through an import marked `resolution-mode: import` (TS1479/TS1542
// otherwise; TypeScript 5.3 or later). This rewrites the `typebox` imports of dist/*.d.cts so.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dist = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', 'dist');
const ESM_ONLY = 'typebox';

for (const file of readdirSync(dist).filter((name) => name.endsWith('.d.cts'))) {
  const path = join(dist, file);
  const text = readFileSync(path, 'utf8');
  const fixed = text
    // A bare import left by the bundler of declarations imports nothing a type needs.
    .replace(new RegExp(`^import '${ESM_ONLY}';\\n`, 'gm'), '')
    .replace(
      new RegExp(`^import (\\* as \\w+|\\{[^}]*\\}) from '${ESM_ONLY}';$`, 'gm'),
      `import type $1 from '${ESM_ONLY}' with { 'resolution-mode': 'import' };`,
    );
  if (new RegExp(`^import (?!type ).*'${ESM_ONLY}'`, 'm').test(fixed)) {
    throw new Error(`${file}: an import of ${ESM_ONLY} this script does not know how to rewrite`);
  }
  if (fixed !== text) writeFileSync(path, fixed);
}
