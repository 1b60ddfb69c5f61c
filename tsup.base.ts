import type { Options } from 'tsup';

/** Settings every package shares; each package's tsup.config.ts spreads this and adds its entries. */
export const baseOptions = {
  target: 'node20',
  platform: 'node',
  sourcemap: true,
  clean: true,
  splitting: false,
  treeshake: true,
} satisfies Options;
