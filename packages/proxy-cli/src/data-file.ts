import { close, constants, createReadStream, open } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Socket } from 'node:net';
import { addAbortSignal, type Readable } from 'node:stream';
import { isatty, ReadStream } from 'node:tty';
import { promisify } from 'node:util';

const openFd = promisify(open);
const closeFd = promisify(close);

/**
 * The file `--data @path` names, as a stream that `signal` ends. A FIFO (`mkfifo`, `<(cmd)`) or
 * a terminal (`/dev/tty`, a pty) is read on the event loop: a file stream reads on a libuv worker
 * thread, and their open or read blocks that thread until a writer comes or writes, which no
 * abort ends, nor even process.exit, so Ctrl-C went unheard.
 */
export async function openDataFile(path: string, signal: AbortSignal): Promise<Readable> {
  const stream = await openByKind(path);
  return addAbortSignal(signal, stream);
}

async function openByKind(path: string): Promise<Readable> {
  const stats = await stat(path);
  if (stats.isFIFO()) return openFifo(path);
  if (stats.isCharacterDevice()) return openCharacterDevice(path);
  return createReadStream(path);
}

/**
 * O_NONBLOCK so that the open returns before a writer comes; Linux reports no end of file on
 * such a FIFO before a first writer has come and gone, so the pipe still waits for it.
 */
async function openFifo(path: string): Promise<Readable> {
  const fd = await openFd(path, constants.O_RDONLY | constants.O_NONBLOCK);
  return new Socket({ fd, readable: true, writable: false });
}

/**
 * A terminal is read as one, on the event loop (O_NONBLOCK: a serial line's open would wait for
 * its carrier). Node can watch no other kind of device there; those left (`/dev/null`,
 * `/dev/zero`, `/dev/urandom`) answer every read at once, so a file stream is no trap for them.
 */
async function openCharacterDevice(path: string): Promise<Readable> {
  const fd = await openFd(path, constants.O_RDONLY | constants.O_NONBLOCK);
  if (isatty(fd)) return new ReadStream(fd);
  await closeFd(fd);
  return createReadStream(path);
}
