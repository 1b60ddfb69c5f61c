import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, onTestFinished } from 'vitest';
import { UpstreamCall, type UpstreamOutcome } from '../../src/upstream/upstream-call.js';
import { startProxy } from '../helper.js';

// Hostile-upstream pass: an answer in 1-byte chunks (`1\r\nx\r\n`, over and over) was kept as
// undici handed it over, one Buffer per chunk: 5 MB of such an answer took the proxy to 765 MB
// of memory, and one within the default 50 MB --result-size-limit could take it past its heap.

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

describe('an answer in tiny chunks', () => {
  it('is held near its own size, not an object per chunk', () => {
    let outcome: UpstreamOutcome | undefined;
    const call = new UpstreamCall({ resultSizeLimitBytes: 10_000_000, timeoutMs: null }, (o) => {
      outcome = o;
    });
    const controller = { abort: () => {} } as never;
    call.onRequestStart(controller);
    call.onResponseStart(controller, 200, {});
    // As undici hands them over: each a view into the socket read that carried it.
    const read = Buffer.alloc(60_000, 'x');
    const before = heapAfterGc();
    for (let i = 0; i < 500_000; i++) {
      const at = i % read.length;
      call.onResponseData(controller, read.subarray(at, at + 1));
    }
    const held = heapAfterGc() - before;
    // An object per chunk is over 30 MB here; the bytes themselves live outside the heap.
    expect(held).toBeLessThan(5_000_000);
    call.onResponseEnd();
    expect(outcome?.ok && outcome.body.equals(Buffer.alloc(500_000, 'x'))).toBe(true);
  });

  it('arrives whole through a real target, chunks of every size across the blocks', async () => {
    const pieces = [1, 2, 65_535, 1, 70_000, 3, 131_072, 5].map((length, i) =>
      Buffer.alloc(length, 97 + i),
    );
    const target = createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => {
        socket.write(
          'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n',
        );
        for (const piece of pieces) {
          socket.write(`${piece.length.toString(16)}\r\n`);
          socket.write(piece);
          socket.write('\r\n');
        }
        socket.end('0\r\n\r\n');
      });
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => target.close(() => resolve())));
    const { port } = target.address() as AddressInfo;
    const proxy = await startProxy(`http://127.0.0.1:${port}`, { listen: true });
    const id = await proxy.submit('/api/x');
    const task = await proxy.finished(id);
    expect(task.status).toBe('completed');
    const replay = Buffer.from(await (await fetch(`${proxy.url}/task/${id}/result`)).arrayBuffer());
    expect(replay.equals(Buffer.concat(pieces))).toBe(true);
  });
});
