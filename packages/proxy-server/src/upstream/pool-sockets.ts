import type { Socket } from 'node:net';
import { buildConnector } from 'undici';

/**
 * The sockets of the pool's connections, so that a call which destroys its own (an abort) can
 * wait until it is really closed: undici fails the call before it destroys the socket, and the
 * socket closes later still.
 */
export class PoolSockets {
  readonly #open = new Set<Socket>();

  /** undici's own connector, with each socket it opens kept until it closes. */
  connector(options: buildConnector.BuildOptions): buildConnector.connector {
    const connect = buildConnector(options);
    return (connectOptions, callback) =>
      connect(connectOptions, (...args) => {
        const [, socket] = args;
        if (socket) this.#keep(socket);
        callback(...args);
      });
  }

  /** Runs `destroying`, then resolves once every socket it destroyed has closed. */
  closedAfter(destroying: () => void): Promise<void> {
    const live = [...this.#open].filter((socket) => !socket.destroyed);
    destroying();
    // Not `socket.closed`: a destroy sets it at once, before the handle has closed.
    const closing = live.filter((socket) => socket.destroyed && this.#open.has(socket));
    return Promise.all(
      closing.map(
        (socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())),
      ),
    ).then(() => undefined);
  }

  #keep(socket: Socket): void {
    this.#open.add(socket);
    socket.once('close', () => this.#open.delete(socket));
  }
}
