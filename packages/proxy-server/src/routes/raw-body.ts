import type { Readable } from 'node:stream';

/**
 * Collects a request body as the socket delivered it, without the copy Fastify's own raw-body
 * parser makes (the chunks are turned into the task's binary string once, when it is queued), or
 * fails with `tooLarge()` as soon as it passes `limitBytes`. Gives null for an empty body.
 */
export function readRawBody(
  stream: Readable,
  limitBytes: number,
  declaredLength: string | undefined,
  tooLarge: () => Error,
  done: (error: Error | null, body?: Buffer[] | null) => void,
): void {
  if (declaredLength !== undefined && Number(declaredLength) > limitBytes) {
    done(tooLarge());
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const cleanup = () => {
    stream.off('data', onData);
    stream.off('end', onEnd);
    stream.off('error', onError);
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > limitBytes) {
      cleanup();
      done(tooLarge());
      return;
    }
    chunks.push(chunk);
  };
  const onEnd = () => {
    cleanup();
    done(null, size === 0 ? null : chunks);
  };
  const onError = (error: Error) => {
    cleanup();
    done(error);
  };
  stream.on('data', onData);
  stream.on('end', onEnd);
  stream.on('error', onError);
}
