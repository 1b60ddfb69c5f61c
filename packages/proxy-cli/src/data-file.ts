import { constants, createReadStream, open } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Socket } from 'node:net';
import { addAbortSignal, type Readable } from 'node:stream';
import { promisify } from 'node:util';

const openFd = promisify(open);

/**
 * The file `--data @path` names, as a stream that `signal` ends. A FIFO (`mkfifo`, `<(cmd)`) is
 * read as a pipe, on the event loop: a file stream reads on a libuv worker thread, and a FIFO's
 * open or read blocks that thread until a writer comes or writes, which no abort ends, nor even
 * process.exit, so Ctrl-C went unheard.
 */
export async function openDataFile(path: string, signal: AbortSignal): Promise<Readable> {
  const stream = (await stat(path)).isFIFO() ? await openFifo(path) : createReadStream(path);
  return addAbortSignal(signal, stream);
}

/**
 * O_NONBLOCK so that the open returns before a writer comes; Linux reports no end of file on
 * such a FIFO before a first writer has come and gone, so the pipe still waits for it.
 */
async function openFifo(path: string): Promise<Readable> {
  const fd = await openFd(path, constants.O_RDONLY | constants.O_NONBLOCK);
  return new Socket({ fd, readable: true, writable: false });
}
