import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf, spawnCli } from '../e2e/harness.js';

// The first answer to a submission was lost, the retry (same key, the one the CLI made) was
// answered as a replay of the task the first attempt created, and the CLI said "submitted before
// with this idempotency key" ("replayed": true with --json) to someone who gave no key and
// submitted once.
// This proxy drops the first submission's connection, and answers every later one as a replay.
const TASK_ID = '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b';
let posts = 0;
let proxy: Server;
let url: string;

beforeAll(async () => {
  proxy = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      posts += 1;
      if (posts % 2 === 1) {
        res.socket?.destroy();
        return;
      }
      res.writeHead(202, {
        'content-type': 'application/json',
        'idempotent-replayed': 'true',
        location: `/task/${TASK_ID}`,
      });
      res.end(JSON.stringify({ success: true, task_id: TASK_ID, status: 'pending' }));
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => proxy.close(resolve)));

describe('--submit answered, on its own retry, with the task it created', () => {
  it('says queued, not submitted before', async () => {
    posts = 0;
    const run = await spawnCli(['submit', 'api/x', '--url', url]).done;
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${TASK_ID}\n`);
    expect(run.stderr).toMatch(/^queued; follow it with/);
  });

  it('with --json, "replayed": false', async () => {
    posts = 0;
    const run = await spawnCli(['submit', 'api/x', '--json', '--url', url]).done;
    expect(jsonOf(run)).toMatchObject({ task_id: TASK_ID, replayed: false });
  });

  it('with --idempotency-key, a replay is still said to be one', async () => {
    posts = 0;
    const run = await spawnCli(['submit', 'api/x', '--idempotency-key', 'k1', '--url', url]).done;
    expect(run.stderr).toContain('submitted before with this idempotency key');
  });
});
