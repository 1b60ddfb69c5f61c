import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { bigAnswerTarget, startProxy } from '../helper.js';

// A client reading a big answer slowly was cut off after --request-timeout although it read
// all along: the proxy writes the answer at once, and looked for progress only in what its
// socket still held, which falls once the whole write is done, not while the kernel takes it.

/** Several times what the kernels of both ends buffer on a local connection. */
const RESULT_BYTES = 8 * 1024 * 1024;

/**
 * Reads `url` a chunk at a time with a pause after each, far slower than the proxy could send:
 * the bytes of the body, and whether it came to its end or was cut off.
 */
function readSlowly(url: string): Promise<{ bytes: number; whole: boolean }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { agent: false }, (response) => {
      let bytes = 0;
      let whole = false;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        response.pause();
        setTimeout(() => response.resume(), 40).unref();
      });
      response.on('end', () => {
        whole = true;
        outgoing.destroy();
      });
      response.on('error', () => {});
      response.on('close', () => resolve({ bytes, whole }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('an answer the client reads slowly', () => {
  it.each([
    ['the replayed result', (id: string) => `/task/${id}/result`, RESULT_BYTES],
    [
      'the task stream, whose last message carries the result',
      (id: string) => `/task/${id}/events`,
      Math.ceil(RESULT_BYTES / 3) * 4,
    ],
  ])(
    '%s: is read to its end, however long past --request-timeout that takes',
    async (_kind, pathOf, atLeast) => {
      const proxy = await startProxy(await bigAnswerTarget(RESULT_BYTES), {
        listen: true,
        flags: ['--request-timeout', '2'],
      });
      const submitted = await fetch(`${proxy.url}/api/big`, { method: 'POST' });
      const { task_id: id } = (await submitted.json()) as { task_id: string };
      await (await fetch(`${proxy.url}/task/${id}?wait=30`)).arrayBuffer();

      const read = await readSlowly(`${proxy.url}${pathOf(id)}`);

      expect(read).toEqual({ bytes: expect.any(Number), whole: true });
      expect(read.bytes).toBeGreaterThanOrEqual(atLeast);
    },
    60_000,
  );
});
