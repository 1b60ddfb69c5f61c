// The `prepack` of every package: a tarball is the package's dist/, which packing does not
// build. Packed before a build, the tarball held no code at all (npm installed it without a
// word, then the bin failed with ERR_MODULE_NOT_FOUND); packed after an edit, the code before it.
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

const name = process.env.npm_package_name ?? 'this package';

function fail(why) {
  console.error(`${name}: ${why}: build it first (\`npm run setup\` at the repository's root)`);
  process.exit(1);
}

/** The last time anything under `dir` changed: a directory's time moves when a file goes. */
function newest(dir) {
  let latest = lstatSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    latest = Math.max(latest, lstatSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return latest;
}

const IN_DIST = /^(\.\/)?dist\//;

/**
 * Every file in dist/ that package.json points at: the entries and their types, and the bins,
 * which are either in dist/ or small files outside it that import from it.
 */
function builtEntries() {
  const { main, types, exports, bin } = JSON.parse(readFileSync('package.json', 'utf8'));
  const leaves = (value) =>
    typeof value === 'string' ? [value] : Object.values(value ?? {}).flatMap(leaves);
  const entries = [main, types, exports, bin].flatMap(leaves);
  const imported = leaves(bin)
    .filter((path) => !IN_DIST.test(path) && existsSync(path))
    .flatMap((path) =>
      [...readFileSync(path, 'utf8').matchAll(/['"](\.\.?\/[^'"]*dist\/[^'"]+)['"]/g)].map(
        (match) => `./${normalize(join(dirname(path), match[1]))}`,
      ),
    );
  return [...entries.filter((path) => IN_DIST.test(path)), ...imported];
}

if (!existsSync('dist')) fail('there is no dist/ to pack');
const missing = builtEntries().filter((path) => !existsSync(path));
if (existsSync('ui') && !existsSync('dist/ui')) missing.push('dist/ui');
if (missing.length > 0) fail(`dist/ lacks ${missing.join(', ')}`);
const sources = ['src', 'ui'].filter((dir) => existsSync(dir));
if (Math.max(...sources.map(newest)) > newest('dist')) fail('src/ changed since dist/ was built');
