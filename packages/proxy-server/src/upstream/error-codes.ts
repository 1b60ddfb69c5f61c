import type { TaskError, TaskErrorCode } from 'proxy-client/wire';
import { taskError } from '../engine/task-error.js';

/** Every transport error code we recognise and the task error it becomes; nothing else branches on codes. */
const CODE_TABLE: Readonly<Record<string, TaskErrorCode>> = {
  ECONNREFUSED: 'upstream_refused',
  ECONNRESET: 'upstream_reset',
  EPIPE: 'upstream_reset',
  UND_ERR_SOCKET: 'upstream_reset',
  UND_ERR_CLOSED: 'upstream_reset',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'upstream_reset',
  HPE_INVALID_CONSTANT: 'upstream_error',
  ENOTFOUND: 'upstream_unreachable',
  EAI_AGAIN: 'upstream_unreachable',
  EHOSTUNREACH: 'upstream_unreachable',
  ENETUNREACH: 'upstream_unreachable',
  EHOSTDOWN: 'upstream_unreachable',
  ETIMEDOUT: 'upstream_unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'upstream_unreachable',
  UND_ERR_HEADERS_TIMEOUT: 'upstream_timeout',
  UND_ERR_BODY_TIMEOUT: 'upstream_timeout',
  UND_ERR_RES_EXCEEDED_MAX_SIZE: 'result_too_large',
};

/** Maps a failed upstream call to the task error; looks at `err.code`, then at its cause's. */
export function taskErrorOf(error: unknown): TaskError {
  const codes = [codeOf(error), codeOf(causeOf(error))];
  for (const code of codes) {
    const mapped = code === undefined ? undefined : CODE_TABLE[code];
    if (mapped) return taskError(mapped, detailOf(error));
  }
  return taskError('upstream_error', detailOf(error));
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function causeOf(error: unknown): unknown {
  return error instanceof Error ? error.cause : undefined;
}

function detailOf(error: unknown): string {
  const code = codeOf(error) ?? codeOf(causeOf(error));
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
