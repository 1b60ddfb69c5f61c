// The `prepack` of every package: a tarball is the package's dist/, which packing does not
// build. Packed before a build, the tarball held no code at all (npm installed it without a
// word, then the bin failed with ERR_MODULE_NOT_FOUND); packed after an edit, the code before it.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const name = process.env.npm_package_name ?? 'this package';

function fail(why) {
  console.error(`${name}: ${why}: build it first (\`pnpm build\` at the repository's root)`);
  process.exit(1);
}

/** The last time a file under `dir` changed. */
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    latest = Math.max(latest, statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return latest;
}

if (!existsSync('dist')) fail('there is no dist/ to pack');
const sources = ['src', 'ui'].filter((dir) => existsSync(dir));
if (Math.max(...sources.map(newest)) > newest('dist')) fail('src/ changed since dist/ was built');
