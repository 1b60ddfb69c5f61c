import { defineConfig } from 'tsup';
import { baseOptions } from '../../tsup.base.ts';

export default defineConfig({
  ...baseOptions,
  entry: {
    index: 'src/index.ts',
    bin: 'src/bin.ts',
  },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
});
