import { defineConfig } from 'tsup';
import { baseOptions } from '../../tsup.base.ts';

export default defineConfig([
  // The bin, and the library entry for ESM. bin.js imports main.js only once it has set the
  // environment up, so main.js is an entry of its own: bundled in, its imports would load first.
  {
    ...baseOptions,
    entry: { index: 'src/index.ts', bin: 'src/bin.ts', main: 'src/main.ts' },
    external: ['./main.js'],
    format: ['esm'],
    dts: { entry: { index: 'src/index.ts' } },
  },
  // The library entry for require(): argv parsing and the exit codes need nothing ESM-only, and
  // shims give program.ts the import.meta.url it reads package.json with.
  {
    ...baseOptions,
    entry: { index: 'src/index.ts' },
    format: ['cjs'],
    dts: true,
    shims: true,
    clean: false,
  },
]);
