import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPageServer } from '../src/processes.mjs';

describe('page-server (the floor of scenarios 5b and 5d)', () => {
  let dir: string;
  let file: string;
  const page = JSON.stringify({ success: true, data: { tasks: [{ task_id: 'é' }], total: 1 } });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'page-server-test-'));
    file = join(dir, 'page.json');
    await writeFile(file, page);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('answers every GET, whatever its path, with the file’s bytes', async () => {
    const server = await startPageServer(file);
    try {
      for (const path of ['/tasks?limit=100', '/anything']) {
        const res = await fetch(`${server.url}${path}`);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('application/json');
        expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(page));
        expect(await res.text()).toBe(page);
      }
    } finally {
      await server.stop();
    }
  });

  it('refuses to start without a page, saying so', () => {
    const run = spawnSync(
      process.execPath,
      [join(import.meta.dirname, '../servers/page-server.mjs')],
      {
        encoding: 'utf8',
      },
    );
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/page-server needs --page FILE/);
  });
});
