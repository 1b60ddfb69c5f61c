import { defineConfig } from 'vitest/config';

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
