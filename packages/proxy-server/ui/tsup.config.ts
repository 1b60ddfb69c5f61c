import { defineConfig } from 'tsup';

/**
 * The dashboard served at /ui: one script and one stylesheet for the browser, minified, with
 * everything they import bundled in (no CDN, works offline), next to index.html in dist/ui.
 * Built after the server (its build cleans dist/).
 */
export default defineConfig({
  entry: { app: 'ui/src/main.ts' },
  outDir: 'dist/ui',
  publicDir: 'ui/public',
  format: ['esm'],
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  dts: false,
  clean: false,
  splitting: false,
  treeshake: true,
  noExternal: [/.*/],
});
