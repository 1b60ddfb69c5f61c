import { connect, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { waitFor } from 'test-support';
import { describe, expect, it, onTestFinished } from 'vitest';
import { bigAnswerTarget, startProxy } from '../helper.js';

// A client that asked for a big answer and never read it kept its connection, and a copy of the
// answer in the proxy, for as long as it liked: 100 such clients of a 4 MiB result took the
// proxy from 120 MB to 510 MB of memory, and nothing ever gave it back.

/** Far more than the socket buffers of both ends take, so a client that reads nothing stalls it. */
const RESULT_BYTES = 24 * 1024 * 1024;

/** Sends `path` and reads nothing until told; then counts the bytes that came before the end. */
async function neverReads(
  proxy: { app: FastifyInstance; url: string },
  path: string,
): Promise<{ closedByProxy: Promise<void>; readAll(): Promise<number> }> {
  const { hostname, port } = new URL(proxy.url);
  const accepted: Socket[] = [];
  const onConnection = (socket: Socket) => accepted.push(socket);
  proxy.app.server.on('connection', onConnection);
  const socket: Socket = connect({ host: hostname, port: Number(port) });
  socket.pause();
  socket.on('error', () => {});
  onTestFinished(() => void socket.destroy());
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  // The proxy's end of this connection: the client's, paused, hears nothing of its close.
  const theirs = await waitFor(() => accepted.find((s) => s.remotePort === socket.localPort), {
    what: 'the proxy to take the connection',
  });
  proxy.app.server.off('connection', onConnection);
  return {
    closedByProxy: theirs.destroyed
      ? Promise.resolve()
      : new Promise((resolve) => theirs.once('close', () => resolve())),
    readAll: () =>
      new Promise((resolve) => {
        let bytes = 0;
        socket.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
        });
        socket.once('close', () => resolve(bytes));
        socket.resume();
      }),
  };
}

async function finishedTask(url: string): Promise<string> {
  const submitted = await fetch(`${url}/api/big`, { method: 'POST' });
  const { task_id: id } = (await submitted.json()) as { task_id: string };
  // Seen in the list, which carries no result: a read of the task itself is 32 MB, which a
  // loaded machine may read slower than a short --request-timeout allows.
  await waitFor(
    async () => {
      const list = (await (await fetch(`${url}/tasks?status=completed`)).json()) as {
        data: { tasks: { task_id: string }[] };
      };
      return list.data.tasks.some((task) => task.task_id === id);
    },
    { what: 'the task to complete' },
  );
  return id;
}

describe('an answer the client leaves unread', () => {
  it.each([
    ['the replayed result', (id: string) => `/task/${id}/result`],
    ['the task with its result', (id: string) => `/task/${id}`],
    [
      'the task stream, whose last message carries the result',
      (id: string) => `/task/${id}/events`,
    ],
  ])(
    '%s: the connection is closed after --request-timeout without a byte read',
    async (_kind, pathOf) => {
      const proxy = await startProxy(await bigAnswerTarget(RESULT_BYTES), {
        listen: true,
        flags: ['--request-timeout', '0.5'],
      });
      const id = await finishedTask(proxy.url);

      const client = await neverReads(proxy, pathOf(id));

      await client.closedByProxy;
      // What the kernels buffered arrives, then the end: the answer was cut short.
      expect(await client.readAll()).toBeLessThan(RESULT_BYTES);
    },
  );

  it('is sent whole, with its length, to a client that reads it', async () => {
    const proxy = await startProxy(await bigAnswerTarget(RESULT_BYTES), { listen: true });
    const id = await finishedTask(proxy.url);

    const replay = await fetch(`${proxy.url}/task/${id}/result`);
    expect(replay.headers.get('content-length')).toBe(String(RESULT_BYTES));
    expect((await replay.arrayBuffer()).byteLength).toBe(RESULT_BYTES);

    const read = await fetch(`${proxy.url}/task/${id}`);
    const text = await read.text();
    expect(read.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
    expect(
      (JSON.parse(text) as { data: { result: { body: string } } }).data.result.body,
    ).toHaveLength(Math.ceil(RESULT_BYTES / 3) * 4);
  });
});
