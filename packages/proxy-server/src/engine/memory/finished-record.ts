import type { BodyEncoding, TaskError, TaskStatus, TerminalStatus } from 'proxy-client/wire';
import type { BinaryString, PackedHeaders } from '../stored-request.js';
import type {
  AttemptRecord,
  CallbackState,
  Priority,
  ResultSummary,
  TaskPolicy,
} from '../task-record.js';
import type { ByteSlabs, SlabRoom } from './byte-slabs.js';

/** A task's fields as the memory store keeps them, but for the request and answer bodies. */
export interface TaskFields {
  readonly seq: number;
  readonly id: string;
  readonly method: string;
  readonly path: string;
  readonly createdAt: number;
  readonly headers: PackedHeaders;
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

/** A finished task's fields read back, and where its bodies sit in its record. */
export interface FinishedFields extends TaskFields {
  readonly status: TerminalStatus;
  /** Where the bodies start; -1 marks a body there is none of. */
  readonly bodies: { at: number; request: number; result: number; resultIsText: boolean };
}

export interface Bodies {
  request: BinaryString | null;
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
  headers: PackedHeaders,
  idempotencyKey: string | null,
  requestHash: string | null,
  requestBodyBytes: number,
  resultBodyBytes: number,
  resultIsText: boolean,
];

const HEADER_LENGTH_BYTES = 4;

/**
 * Writes a finished task as one record of bytes outside the heap: a 4-byte length, the header
 * (JSON), then the request body (latin1, byte for byte) and the answer's body (UTF-8 text, or
 * the bytes of a binary one). Once finished a task changes only its callback and its link to
 * a retry, so a record is rewritten rarely and read often.
 */
export function writeFinished(
  slabs: ByteSlabs,
  task: TaskFields & { readonly status: TerminalStatus },
  bodies: Bodies,
): SlabRoom {
  const { result, policy } = task;
  const resultIsText = typeof bodies.result === 'string';
  const requestBytes = bodies.request === null ? -1 : bodies.request.length;
  const resultBytes =
    bodies.result === null
      ? -1
      : typeof bodies.result === 'string'
        ? Buffer.byteLength(bodies.result, 'utf8')
        : bodies.result.length;
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
    task.headers,
    task.idempotencyKey,
    task.requestHash,
    requestBytes,
    resultBytes,
    resultIsText,
  ];
  const json = JSON.stringify(header);
  const headerBytes = Buffer.byteLength(json, 'utf8');
  const room = slabs.room(
    HEADER_LENGTH_BYTES + headerBytes + Math.max(0, requestBytes) + Math.max(0, resultBytes),
  );
  const { slab } = room;
  let at = slab.writeUInt32LE(headerBytes, room.start);
  at += slab.write(json, at, headerBytes, 'utf8');
  if (bodies.request !== null) at += slab.write(bodies.request, at, requestBytes, 'latin1');
  if (typeof bodies.result === 'string') slab.write(bodies.result, at, resultBytes, 'utf8');
  else if (bodies.result !== null) bodies.result.copy(slab, at);
  return room;
}

/** A finished task's fields from its record; its bodies are read only when asked for. */
export function readFinished(id: string, room: SlabRoom): FinishedFields {
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
    headers,
    idempotencyKey,
    requestHash,
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
    headers,
    idempotencyKey,
    requestHash,
    retryOf,
    policy: {
      priority: policy[0],
      tenant: policy[1],
      deadlineAt: policy[2],
      maxAttempts: policy[3],
      timeoutMs: policy[4],
      callbackUrl: policy[5],
    },
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
    bodies: {
      at: at + headerBytes,
      request: requestBodyBytes,
      result: resultBodyBytes,
      resultIsText,
    },
  };
}

export function readRequestBody(room: SlabRoom, fields: FinishedFields): BinaryString | null {
  const { at, request } = fields.bodies;
  if (request < 0) return null;
  return room.slab.toString('latin1', at, at + request) as BinaryString;
}

/** The answer's body as the store hands it out: text as a string, a binary one as a copy. */
export function readResultBody(room: SlabRoom, fields: FinishedFields): string | Buffer | null {
  const { at, request, result, resultIsText } = fields.bodies;
  if (result < 0) return null;
  const from = at + Math.max(0, request);
  if (resultIsText) return room.slab.toString('utf8', from, from + result);
  return Buffer.from(room.slab.subarray(from, from + result));
}
