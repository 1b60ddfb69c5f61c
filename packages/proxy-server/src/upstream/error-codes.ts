import { maxHeaderSize } from 'node:http';
import { type TaskError, type TaskErrorCode, UNTRUSTED_CERTIFICATE_CODES } from 'proxy-client/wire';
import { taskError } from '../engine/task-error.js';
import { ANSWER_HEADER_LIMIT_BYTES } from './answer-header-limit.js';

/** Every transport error code we recognise and the task error it becomes; nothing else branches on codes. */
const CODE_TABLE: Readonly<Record<string, TaskErrorCode>> = {
  ECONNREFUSED: 'upstream_refused',
  ECONNRESET: 'upstream_reset',
  EPIPE: 'upstream_reset',
  UND_ERR_SOCKET: 'upstream_reset',
  UND_ERR_CLOSED: 'upstream_reset',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'upstream_error',
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

/**
 * Node words it "connect EMFILE <address> - Local (undefined:undefined)", naming the target as if
 * it had failed; the limit hit is the proxy's own (sockets of held reads, event streams, calls in
 * flight), and the task failed before any call went out.
 */
const OUT_OF_DESCRIPTORS =
  'the proxy ran out of file descriptors before it could call the target: raise its limit (ulimit -n, LimitNOFILE= in systemd) above --max-concurrent plus the client connections it serves, or cap those with --max-connections';

const UNTRUSTED =
  "the target's TLS certificate is not signed by a CA the proxy trusts: start the proxy with NODE_EXTRA_CA_CERTS=/path/to/ca.pem";

/**
 * Codes whose own message tells an operator little: what happened in words, and the remedy.
 * The code stays in front; the words replace its message (OpenSSL's spans lines).
 */
const EXPLAINED: Readonly<Record<string, string>> = {
  EMFILE: OUT_OF_DESCRIPTORS,
  ENFILE:
    'the machine ran out of file descriptors (its system-wide limit, fs.file-max) before the proxy could call the target',
  ...Object.fromEntries([...UNTRUSTED_CERTIFICATE_CODES].map((code) => [code, UNTRUSTED])),
  CERT_HAS_EXPIRED: "the target's TLS certificate is outside its dates",
  CERT_NOT_YET_VALID: "the target's TLS certificate is outside its dates",
  ERR_TLS_CERT_ALTNAME_INVALID:
    "the target's TLS certificate is for another host name: name one it lists in --target-url",
  ERR_SSL_WRONG_VERSION_NUMBER:
    'the target does not speak TLS on that port: use http:// in --target-url',
  ERR_SSL_PACKET_LENGTH_TOO_LONG:
    'the target does not speak TLS on that port: use http:// in --target-url',
  // Before the status and headers undici raises it only in place of the parser's own error: a
  // head it refused, with a Content-Length among the lines read (the body's length unread).
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH:
    "the head of the target's answer is not valid HTTP: a Content-Length repeated, given as a list or beside Transfer-Encoding, or a malformed line after one",
  UND_ERR_HEADERS_OVERFLOW: `the headers of the target's answer pass ${ANSWER_HEADER_LIMIT_BYTES / 1024} KiB, Node's limit of ${maxHeaderSize / 1024} KiB less room for the headers the proxy adds when it replays them: start the proxy, and the clients that read its results, with NODE_OPTIONS=--max-http-header-size=<bytes> to raise it`,
};

/** A 101 to a request that asked for no upgrade, however undici comes to see it. */
export const UNASKED_UPGRADE =
  'the target answered 101 Switching Protocols to a request that asked for no upgrade';

/**
 * undici's words, under UND_ERR_SOCKET, for an interim answer it will not read past while a call
 * runs: a 100 Continue, which RFC 9110 (15.2) has a client skip, or a 101 to a request that asked
 * for no upgrade. The target had the whole request and did answer: called a reset, such a task
 * was run again on every attempt of --retry-on reset, against a target that never answers
 * otherwise.
 */
const REFUSED_INTERIM: ReadonlyMap<string, string> = new Map([
  [
    'bad response',
    "the target sent an interim 100 Continue before its answer, which the proxy's HTTP client cannot read past; the target had the whole request and may have done the job: have it not send 100 Continue unasked (the proxy never forwards Expect)",
  ],
  ['bad upgrade', UNASKED_UPGRADE],
]);

/**
 * The process (EMFILE) or the machine (ENFILE) had no file descriptor for the call's socket: the
 * call never went out, and can go once a descriptor frees.
 */
export function isOutOfDescriptors(error: unknown): boolean {
  return [codeOf(error), codeOf(causeOf(error))].some(
    (code) => code === 'EMFILE' || code === 'ENFILE',
  );
}

/** Maps a failed upstream call to the task error; looks at `err.code`, then at its cause's. */
export function taskErrorOf(error: unknown): TaskError {
  const interim = codeOf(error) === 'UND_ERR_SOCKET' ? refusedInterimOf(error) : undefined;
  if (interim) return taskError('upstream_error', `UND_ERR_SOCKET: ${interim}`);
  const codes = [codeOf(error), codeOf(causeOf(error))];
  for (const code of codes) {
    const mapped = code === undefined ? undefined : CODE_TABLE[code];
    if (mapped) return taskError(mapped, detailOf(error));
  }
  return taskError('upstream_error', detailOf(error));
}

/** How much of the body had come when a call failed after its answer's status and headers. */
export interface BodySoFar {
  receivedBytes: number;
  /** The answer's Content-Length; null when it gave none (chunked, or ended by a close). */
  declaredBytes: number | null;
}

/**
 * Maps a call that failed after the answer's status and headers came. A close then is one in the
 * middle of the body, whatever undici calls it: with `Connection: close` or HTTP/1.0 it finds the
 * body short of its Content-Length, which before the headers would be a head it refused.
 */
export function taskErrorOfCutBody(error: unknown, body: BodySoFar): TaskError {
  const code = codeOf(error) ?? codeOf(causeOf(error));
  const mapped = taskErrorOf(error);
  if (mapped.code !== 'upstream_reset' && code !== 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    return mapped;
  }
  const how = code === 'ECONNRESET' ? 'reset' : 'closed';
  const of = body.declaredBytes === null ? '' : ` of ${body.declaredBytes}`;
  return taskError(
    'upstream_reset',
    `the target ${how} the connection in the middle of its answer's body, after ${body.receivedBytes}${of} bytes (${codedMessageOf(code, oneLine(messageOf(error)))})`,
  );
}

function refusedInterimOf(error: unknown): string | undefined {
  return error instanceof Error ? REFUSED_INTERIM.get(error.message) : undefined;
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
  const explained = code === undefined ? undefined : EXPLAINED[code];
  const raw = messageOf(error);
  const message = oneLine(raw);
  // Node's own words stay when they fit on a line: the host names a certificate lists, say.
  // OpenSSL's record spans lines and only repeats the code: judged before the lines are joined.
  if (code && explained) {
    return raw.includes('\n') || message === ''
      ? `${code}: ${explained}`
      : `${code}: ${explained} (${message})`;
  }
  return codedMessageOf(code, message);
}

function codedMessageOf(code: string | undefined, message: string): string {
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Some of undici's assertions span lines; a task's message and a log line take one. */
function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}
