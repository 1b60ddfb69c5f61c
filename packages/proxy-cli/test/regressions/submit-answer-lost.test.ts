import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf, spawnCli } from '../e2e/harness.js';

// A submission whose connection broke after the request went out (a proxy restarting mid-answer,
// a load balancer dropping it) may have created its task. The CLI said "could not reach the
// proxy" and asked whether it was running there, so a second try without the key started the
// task again. The key the CLI made is the safe way to try again, and it was not shown.
// This proxy reads each submission whole, then drops the connection without answering.
const keys: (string | undefined)[] = [];
let proxy: Server;
let url: string;

beforeAll(async () => {
  proxy = createServer((req, res) => {
    keys.push(req.headers['idempotency-key'] as string | undefined);
    req.resume();
    req.on('end', () => res.socket?.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => proxy.close(resolve)));

describe('--submit when the connection breaks before the answer', () => {
  it('exits 3, says the task may have been created, and how to submit again safely', async () => {
    keys.length = 0;
    const run = await spawnCli(['submit', 'api/x', '--data', '{"n":1}', '--url', url]).done;
    expect(run.code).toBe(3);
    expect(new Set(keys).size).toBe(1);
    const key = keys[0]!.replaceAll('"', '');
    expect(run.stderr).toContain(`no answer from the proxy at ${url} while submitting POST /api/x`);
    expect(run.stderr).toContain('the task may have been created');
    expect(run.stderr).toContain(`--idempotency-key ${key}`);
    expect(run.stderr).not.toContain('is the proxy running there');
  });

  // The command to submit again said --data @-, as though stdin could be read twice, and never
  // that the same body must be piped to it: another body under the same key is refused (422).
  it('with --data @-, the hint says to pipe the same body in again', async () => {
    keys.length = 0;
    const run = await spawnCli(['submit', 'api/x', '--data', '@-', '--url', url], {
      stdin: '{"n":1}',
    }).done;
    expect(run.code).toBe(3);
    const key = keys[0]!.replaceAll('"', '');
    expect(run.stderr).toContain(
      `hint: submit it again with the same key and the same body piped in, and the proxy names that task instead of starting another: proxy-cli --url ${url} --submit api/x --method POST --data @- --idempotency-key ${key}\n`,
    );
  });

  it('with --json, the key in the error document', async () => {
    keys.length = 0;
    const run = await spawnCli(['submit', 'api/x', '--json', '--url', url]).done;
    expect(run.code).toBe(3);
    expect(jsonOf(run)).toMatchObject({
      success: false,
      error: {
        code: 'proxy_unreachable',
        exit_code: 3,
        idempotency_key: keys[0]!.replaceAll('"', ''),
      },
    });
  });
});
