import { defineConfig } from 'tsup';
import { baseOptions } from '../../tsup.base.ts';

const entry = { index: 'src/index.ts', wire: 'src/wire.ts' };

export default defineConfig([
  // The SDK must run wherever fetch exists, so it targets the neutral platform.
  { ...baseOptions, platform: 'neutral', entry, format: ['esm'], dts: true },
  // ky 1 and TypeBox 1 ship ESM only; bundling them into the CommonJS build lets
  // require('proxy-client') and require('proxy-client/wire') work.
  {
    ...baseOptions,
    platform: 'neutral',
    entry,
    format: ['cjs'],
    dts: true,
    clean: false,
    noExternal: ['ky', 'typebox'],
  },
]);
