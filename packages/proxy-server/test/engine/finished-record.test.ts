import type { TerminalStatus } from 'proxy-client/wire';
import { describe, expect, it } from 'vitest';
import { ByteSlabs } from '../../src/engine/memory/byte-slabs.js';
import {
  readFinished,
  readRequest,
  readResultBody,
  type TaskFields,
  writeFinished,
} from '../../src/engine/memory/finished-record.js';
import { binaryStringOf, packHeaders } from '../../src/engine/stored-request.js';
import { MemoryRepository } from '../../src/index.js';
import { completed, newTask } from './harness.js';

const T0 = 1_700_000_000_000;
const EVERY_BYTE = binaryStringOf([Buffer.from(Array.from({ length: 256 }, (_, i) => i))]);
const HEADERS = packHeaders(['X-Note', 'obs-text \u00ff', 'Content-Type', 'application/json']);

/** Every field set, and no two fields of one type alike: a field read from another's place shows. */
function everyField(): TaskFields & { status: TerminalStatus } {
  return {
    seq: 7,
    id: '00000000-0000-4000-8000-000000000007',
    method: 'PATCH',
    path: '/api/caf\u00e9?q="x"&n=1',
    createdAt: T0,
    idempotencyKey: 'key:one',
    requestHash: 'hash:two',
    retryOf: 'retry-of',
    policy: {
      priority: 'high',
      tenant: 'tenant \u{1f600}',
      deadlineAt: T0 + 5,
      maxAttempts: 4,
      timeoutMs: 1_500,
      callbackUrl: 'https://hooks.example/done',
    },
    status: 'failed',
    startedAt: T0 + 1,
    completedAt: T0 + 2,
    isLong: true,
    attempts: 3,
    result: {
      statusCode: 502,
      headers: { 'set-cookie': ['a=1', 'b="2"'], 'x-one': 'caf\u00e9' },
      encoding: 'text',
      bodyBytes: 11,
    },
    error: { code: 'upstream_status', message: 'status 502 "bad"\n\u00e9' },
    retriedAs: 'retried-as',
    nextAttemptAt: T0 + 3,
    earlierAttempts: [
      {
        attempt: 1,
        startedAt: T0 + 10,
        finishedAt: T0 + 11,
        outcome: 'failed',
        statusCode: 503,
        errorCode: 'upstream_status',
        retryAt: T0 + 12,
      },
    ],
    callback: {
      url: 'https://hooks.example/done',
      state: 'delivered',
      deliveries: [{ attempt: 1, at: T0 + 20, ok: true, statusCode: 204, error: null }],
      nextAt: null,
    },
    order: 9,
  };
}

describe('a finished task as a record of bytes', () => {
  it('reads back every field, the request and the answer exactly', () => {
    const slabs = new ByteSlabs();
    const fields = everyField();
    const text = 'h\u00e9llo \u65e5\u672c \u{1f680}';
    const room = writeFinished(slabs, fields, {
      requestHeaders: HEADERS,
      requestBody: EVERY_BYTE,
      result: text,
    });
    const read = readFinished(fields.id, room);
    const { parts: _parts, ...rest } = read;
    expect(rest).toEqual(fields);
    expect(readRequest(room, read)).toEqual({
      method: fields.method,
      path: fields.path,
      headers: HEADERS,
      body: EVERY_BYTE,
    });
    expect(readResultBody(room, read)).toBe(text);
  });

  it('keeps a binary answer as bytes, and a task without bodies or headers as such', () => {
    const slabs = new ByteSlabs();
    const bytes = Buffer.from([0, 255, 10, 13, 128]);
    const binary = writeFinished(
      slabs,
      {
        ...everyField(),
        result: { statusCode: 200, headers: {}, encoding: 'base64', bodyBytes: 5 },
      },
      { requestHeaders: HEADERS, requestBody: null, result: bytes },
    );
    const bare = writeFinished(
      slabs,
      { ...everyField(), result: null, callback: null, earlierAttempts: null },
      { requestHeaders: packHeaders([]), requestBody: null, result: null },
    );
    const readBinary = readFinished('b', binary);
    expect(readResultBody(binary, readBinary)).toEqual(bytes);
    expect(readRequest(binary, readBinary)).toMatchObject({ headers: HEADERS, body: null });
    const readBare = readFinished('n', bare);
    expect(readBare.result).toBeNull();
    expect(readResultBody(bare, readBare)).toBeNull();
    expect(readRequest(bare, readBare)).toMatchObject({ headers: '', body: null });
  });

  it('stays intact while later records fill the slab and others get buffers of their own', () => {
    const slabs = new ByteSlabs();
    const first = writeFinished(slabs, everyField(), {
      requestHeaders: HEADERS,
      requestBody: EVERY_BYTE,
      result: 'first',
    });
    for (let i = 0; i < 200; i++) {
      writeFinished(slabs, everyField(), {
        requestHeaders: HEADERS,
        requestBody: null,
        result: 'x'.repeat(i * 50),
      });
    }
    const read = readFinished('first', first);
    expect(readResultBody(first, read)).toBe('first');
    expect(readRequest(first, read).body).toBe(EVERY_BYTE);
  });
});

describe('a finished task in the memory repository', () => {
  it('takes a new callback state and a link to its retry, and keeps its request and answer', () => {
    const repo = new MemoryRepository();
    repo.open();
    const task = newTask(T0, 'original', { idempotencyKey: 'k1', requestHash: 'h1' });
    repo.insert(1, task);
    repo.start(task.id, T0 + 1);
    repo.finish(task.id, completed('answer \u00e9'), T0 + 2, false);
    const callback = {
      url: 'https://hooks.example/x',
      state: 'failed' as const,
      deliveries: [{ attempt: 1, at: T0 + 3, ok: false, statusCode: 500, error: 'status 500' }],
      nextAt: null,
    };
    expect(repo.setCallback(task.id, callback)).toBe(true);
    const retry = newTask(T0 + 4, 'retry', { retryOf: task.id });
    repo.insert(2, retry);

    const row = repo.get(task.id);
    expect(row).toMatchObject({
      status: 'completed',
      retriedAs: retry.id,
      callback,
      result: { statusCode: 200, body: 'answer \u00e9' },
    });
    expect(repo.getRequest(task.id)).toEqual(task.request);
    expect(repo.findByIdempotencyKey('k1')).toEqual({ id: task.id, requestHash: 'h1' });
    expect(repo.get(retry.id)?.retryOf).toBe(task.id);
  });
});
