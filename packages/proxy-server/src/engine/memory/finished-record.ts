import type { BodyEncoding, TaskError, TaskStatus, TerminalStatus } from 'proxy-client/wire';
import type { BinaryString, PackedHeaders } from '../stored-request.js';
import {
  type AttemptRecord,
  type CallbackState,
  DEFAULT_POLICY,
  type Priority,
  type ResultSummary,
  type TaskPolicy,
  type TaskRequest,
} from '../task-record.js';
import type { ByteSlabs, SlabRoom } from './byte-slabs.js';

/**
 * A task's fields as the memory store keeps them, but for its request's headers and body and
 * its answer's body.
 */
export interface TaskFields {
  readonly seq: number;
  readonly id: string;
  readonly method: string;
  readonly path: string;
  readonly createdAt: number;
  readonly idempotencyKey: string | null;
  readonly requestHash: string | null;
  readonly retryOf: string | null;
  readonly policy: TaskPolicy;
  readonly status: TaskStatus;
  readonly startedAt: number | null;
  readonly completedAt: number | null;
  readonly isLong: boolean;
  readonly attempts: number;
  readonly result: ResultSummary | null;
  readonly error: TaskError | null;
  readonly retriedAs: string | null;
  readonly nextAttemptAt: number | null;
  readonly earlierAttempts: readonly AttemptRecord[] | null;
  readonly callback: CallbackState | null;
  readonly order: number;
}

/** A finished task's fields read back, and where the rest sits in its record. */
export interface FinishedFields extends TaskFields {
  readonly status: TerminalStatus;
  /** Where the parts start, and their sizes in bytes; -1 marks a body there is none of. */
  readonly parts: {
    at: number;
    headers: number;
    request: number;
    result: number;
    resultIsText: boolean;
  };
}

/** Where a record starts: all a reader needs, since the record says its own sizes. */
export type RecordPlace = Pick<SlabRoom, 'slab' | 'start'>;

/** What a record keeps as bytes after its header: read only when asked for. */
export interface RecordParts {
  requestHeaders: PackedHeaders;
  requestBody: BinaryString | null;
  /** Text for json and text answers, bytes for binary ones; null without an answer. */
  result: string | Buffer | null;
}

/**
 * The record's header, a JSON array by position: the names would cost more than most values,
 * a million times over. `readFinished` reads it back by the same positions, and the round-trip
 * test fails on any swap.
 */
type RecordHeader = [
  seq: number,
  order: number,
  method: string,
  path: string,
  createdAt: number,
  status: TerminalStatus,
  startedAt: number | null,
  completedAt: number | null,
  isLong: boolean,
  attempts: number,
  result:
    | [statusCode: number, headers: ResultSummary['headers'], BodyEncoding, bodyBytes: number]
    | null,
  error: TaskError | null,
  retryOf: string | null,
  retriedAs: string | null,
  policy: [
    Priority,
    tenant: string | null,
    deadlineAt: number | null,
    maxAttempts: number,
    timeoutMs: number | null,
    callbackUrl: string | null,
  ],
  nextAttemptAt: number | null,
  earlierAttempts: readonly AttemptRecord[] | null,
  callback: CallbackState | null,
  idempotencyKey: string | null,
  requestHash: string | null,
  requestHeadersBytes: number,
  requestBodyBytes: number,
  resultBodyBytes: number,
  resultIsText: boolean,
];

const HEADER_LENGTH_BYTES = 4;

/**
 * Writes a finished task as one record of bytes outside the heap: a 4-byte length, the header
 * (JSON), then the request's headers and body (latin1, byte for byte) and the answer's body
 * (UTF-8 text, or the bytes of a binary one). Lists read the header alone, so what only a read
 * of the request or the answer needs stays out of it. Once finished a task changes only its
 * callback and its link to a retry, so a record is rewritten rarely and read often.
 */
export function writeFinished(
  slabs: ByteSlabs,
  task: TaskFields & { readonly status: TerminalStatus },
  parts: RecordParts,
): SlabRoom {
  const { result, policy } = task;
  const resultIsText = typeof parts.result === 'string';
  const headersBytes = parts.requestHeaders.length;
  const requestBytes = parts.requestBody === null ? -1 : parts.requestBody.length;
  const resultBytes =
    parts.result === null
      ? -1
      : typeof parts.result === 'string'
        ? Buffer.byteLength(parts.result, 'utf8')
        : parts.result.length;
  const header: RecordHeader = [
    task.seq,
    task.order,
    task.method,
    task.path,
    task.createdAt,
    task.status,
    task.startedAt,
    task.completedAt,
    task.isLong,
    task.attempts,
    result && [result.statusCode, result.headers, result.encoding, result.bodyBytes],
    task.error,
    task.retryOf,
    task.retriedAs,
    [
      policy.priority,
      policy.tenant,
      policy.deadlineAt,
      policy.maxAttempts,
      policy.timeoutMs,
      policy.callbackUrl,
    ],
    task.nextAttemptAt,
    task.earlierAttempts,
    task.callback,
    task.idempotencyKey,
    task.requestHash,
    headersBytes,
    requestBytes,
    resultBytes,
    resultIsText,
  ];
  const json = JSON.stringify(header);
  const headerBytes = Buffer.byteLength(json, 'utf8');
  const room = slabs.room(
    HEADER_LENGTH_BYTES +
      headerBytes +
      headersBytes +
      Math.max(0, requestBytes) +
      Math.max(0, resultBytes),
  );
  const { slab } = room;
  let at = slab.writeUInt32LE(headerBytes, room.start);
  at += slab.write(json, at, headerBytes, 'utf8');
  at += slab.write(parts.requestHeaders, at, headersBytes, 'latin1');
  if (parts.requestBody !== null) at += slab.write(parts.requestBody, at, requestBytes, 'latin1');
  if (typeof parts.result === 'string') slab.write(parts.result, at, resultBytes, 'utf8');
  else if (parts.result !== null) parts.result.copy(slab, at);
  return room;
}

/** A finished task's fields from its record's header; the rest is read only when asked for. */
export function readFinished(id: string, room: RecordPlace): FinishedFields {
  const { slab, start } = room;
  const headerBytes = slab.readUInt32LE(start);
  const at = start + HEADER_LENGTH_BYTES;
  const [
    seq,
    order,
    method,
    path,
    createdAt,
    status,
    startedAt,
    completedAt,
    isLong,
    attempts,
    result,
    error,
    retryOf,
    retriedAs,
    policy,
    nextAttemptAt,
    earlierAttempts,
    callback,
    idempotencyKey,
    requestHash,
    requestHeadersBytes,
    requestBodyBytes,
    resultBodyBytes,
    resultIsText,
  ] = JSON.parse(slab.toString('utf8', at, at + headerBytes)) as RecordHeader;
  return {
    seq,
    id,
    method,
    path,
    createdAt,
    idempotencyKey,
    requestHash,
    retryOf,
    policy: policyOf(policy),
    status,
    startedAt,
    completedAt,
    isLong,
    attempts,
    result: result && {
      statusCode: result[0],
      headers: result[1],
      encoding: result[2],
      bodyBytes: result[3],
    },
    error,
    retriedAs,
    nextAttemptAt,
    earlierAttempts,
    callback,
    order,
    parts: {
      at: at + headerBytes,
      headers: requestHeadersBytes,
      request: requestBodyBytes,
      result: resultBodyBytes,
      resultIsText,
    },
  };
}

/** The request as it was submitted, for a retry of the task. */
export function readRequest(room: RecordPlace, fields: FinishedFields): TaskRequest {
  const { at, headers, request } = fields.parts;
  const bodyAt = at + headers;
  return {
    method: fields.method,
    path: fields.path,
    headers: room.slab.toString('latin1', at, bodyAt) as PackedHeaders,
    body:
      request < 0 ? null : (room.slab.toString('latin1', bodyAt, bodyAt + request) as BinaryString),
  };
}

/** The answer's body as the store hands it out: text as a string, a binary one as a copy. */
export function readResultBody(room: RecordPlace, fields: FinishedFields): string | Buffer | null {
  const { at, headers, request, result, resultIsText } = fields.parts;
  if (result < 0) return null;
  const from = at + headers + Math.max(0, request);
  if (resultIsText) return room.slab.toString('utf8', from, from + result);
  return Buffer.from(room.slab.subarray(from, from + result));
}

/** Most tasks have the default policy: a list then builds no policy object for them. */
function policyOf([
  priority,
  tenant,
  deadlineAt,
  maxAttempts,
  timeoutMs,
  callbackUrl,
]: RecordHeader[14]): TaskPolicy {
  const d = DEFAULT_POLICY;
  if (
    priority === d.priority &&
    tenant === d.tenant &&
    deadlineAt === d.deadlineAt &&
    maxAttempts === d.maxAttempts &&
    timeoutMs === d.timeoutMs &&
    callbackUrl === d.callbackUrl
  ) {
    return d;
  }
  return { priority, tenant, deadlineAt, maxAttempts, timeoutMs, callbackUrl };
}
