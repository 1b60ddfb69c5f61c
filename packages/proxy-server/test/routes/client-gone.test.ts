import { once } from 'node:events';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { clientGone } from '../../src/routes/client-gone.js';

// Code review: routes ask for the signal after an await (a read, a commit); a client gone
// during it had closed the answer already, whose 'close' comes once, so the wait begun then
// held its place for the whole of --max-wait.

/** A request the server holds unanswered: the client's side and the server's answer. */
async function heldRequest() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onTestFinished(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const arrived = once(server, 'request') as Promise<[IncomingMessage, ServerResponse]>;
  const { port } = server.address() as AddressInfo;
  const sent = request({ host: '127.0.0.1', port, path: '/task/x?wait=30' });
  sent.on('error', () => undefined);
  sent.end();
  const [, response] = await arrived;
  return { sent, response };
}

describe('clientGone', () => {
  it('is aborted at once for a client that left before it was asked', async () => {
    const { sent, response } = await heldRequest();
    sent.destroy();
    await once(response, 'close');
    expect(clientGone(response).aborted).toBe(true);
  });

  it('aborts when a client still there leaves', async () => {
    const { sent, response } = await heldRequest();
    const gone = clientGone(response);
    expect(gone.aborted).toBe(false);
    sent.destroy();
    await once(gone, 'abort');
    expect(gone.aborted).toBe(true);
  });
});
