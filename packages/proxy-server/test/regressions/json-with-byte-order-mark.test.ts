import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startProxy } from '../helper.js';

// Hostile HTTP pass: a JSON answer that starts with a UTF-8 byte order mark (static .json files
// saved on Windows, some .NET serialisers) was kept as base64, so `result.body` and the SDK's
// run() gave base64 instead of the object. RFC 8259 §8.1 lets a parser ignore the mark.

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const ANSWER = Buffer.concat([BOM, Buffer.from('{"name":"Zoë","n":[1,2]}')]);

async function bomTarget(): Promise<string> {
  const server = createServer((request, response) => {
    request.resume();
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    response.end(ANSWER);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('a JSON answer with a byte order mark', () => {
  it.each(['memory', 'sqlite'])(
    'is parsed as JSON and replayed byte for byte (%s)',
    async (store) => {
      const dataDir = await mkdtemp(join(tmpdir(), 'proxy-bom-'));
      onTestFinished(() => rm(dataDir, { recursive: true, force: true }));
      const proxy = await startProxy(await bomTarget(), {
        listen: true,
        // A directory of its own: the default one would be under the working directory.
        flags: ['--store', store, '--data-dir', dataDir],
      });
      const task = await proxy.finished(await proxy.submit('/api/data'));
      expect(task.result).toMatchObject({
        body_encoding: 'json',
        body: { name: 'Zoë', n: [1, 2] },
        body_bytes: ANSWER.length,
      });
      const replay = await fetch(`${proxy.url}/task/${task.task_id}/result`);
      expect(Buffer.from(await replay.arrayBuffer()).equals(ANSWER)).toBe(true);
    },
  );
});
