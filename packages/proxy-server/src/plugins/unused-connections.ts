import type { Socket } from 'node:net';
import fp from 'fastify-plugin';

/** Node's own link from a socket to the answer being written on it, if any. */
type HttpSocket = Socket & { _httpMessage?: unknown };

/**
 * Closes, when the server closes, the connections no request is being answered on. Node's
 * `closeIdleConnections` leaves out a connection that has not sent a request yet (it counts as
 * waiting for one), so a single client that connects and says nothing would hold a shutdown
 * open until it is killed.
 */
export const unusedConnections = fp(
  async (app) => {
    const sockets = new Set<HttpSocket>();
    app.server.on('connection', (socket: HttpSocket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    app.addHook('preClose', async () => {
      for (const socket of sockets) if (!socket._httpMessage) socket.destroy();
    });
  },
  { name: 'unused-connections', fastify: '5.x' },
);
