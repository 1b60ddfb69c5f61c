import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// A proxy-server started without --data-dir keeps its tasks under $XDG_STATE_HOME: in tests that
// is a temporary directory, never the home of whoever runs them.
process.env.XDG_STATE_HOME = mkdtempSync(join(tmpdir(), 'proxy-tests-state-'));

const project = (name: string, root: string, testTimeout = 20_000) => ({
  test: { name, root, include: ['test/**/*.test.ts'], testTimeout, hookTimeout: 20_000 },
});

export default defineConfig({
  test: {
    projects: [
      project('proxy-client', 'packages/proxy-client'),
      project('proxy-server', 'packages/proxy-server', 30_000),
      project('proxy-cli', 'packages/proxy-cli', 30_000),
      project('examples', 'examples', 60_000),
      project('docs', 'docs', 60_000),
      project('bench', 'bench', 120_000),
    ],
  },
});
