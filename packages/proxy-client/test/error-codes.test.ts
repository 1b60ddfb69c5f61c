import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  ERROR_CODES,
  ProxyClient,
  type ProxyError,
  type ProxyErrorCode,
  ProxyResponseError,
  SDK_ERROR_CODES,
  type TaskNotFoundError,
  UnauthorizedError,
} from '../src/index.js';
import { errorReply, TASK_ID } from './helpers/fixtures.js';
import { BASE_URL, createTestServer } from './helpers/test-server.js';

const server = createTestServer();
const client = (options: { apiKey?: string } = {}) =>
  new ProxyClient({ baseUrl: BASE_URL, maxRetries: 0, ...options });
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  );

const IDENTIFIER = /^[a-z][a-z0-9_]*$/;

describe('error codes are identifiers from one union', () => {
  it('types code as ProxyErrorCode, and each class as its own codes', () => {
    expectTypeOf<ProxyError['code']>().toEqualTypeOf<ProxyErrorCode>();
    expectTypeOf<TaskNotFoundError['code']>().toEqualTypeOf<'task_not_found' | 'invalid_task_id'>();
    expectTypeOf<UnauthorizedError['code']>().toEqualTypeOf<'unauthorized'>();
    expectTypeOf<'http_404'>().toMatchTypeOf<ProxyErrorCode>();
    // @ts-expect-error a sentence is not a code
    const sentence: ProxyErrorCode = 'no such endpoint';
    void sentence;
  });

  it('lists the SDK codes beside the proxy codes, every one an identifier', () => {
    const all = [...Object.keys(ERROR_CODES), ...Object.keys(SDK_ERROR_CODES)];
    expect(all.filter((code) => !IDENTIFIER.test(code))).toEqual([]);
    expect(new Set(all).size).toBe(all.length);
  });

  it('an answer that is not a proxy-server envelope keeps its status, not its sentence', async () => {
    // What the demo target answers at an unknown path: --url pointed at the target, not the proxy.
    server.on('get', '/stats', {
      status: 404,
      json: { error: 'no such endpoint', path: '/stats' },
    });
    const error = await failure(client().getStats());
    expect(error).toBeInstanceOf(ProxyResponseError);
    expect(error).toMatchObject({ code: 'http_404', status: 404 });
    expect((error as Error).message).toContain('is the base URL a proxy-server?');
  });

  it('an envelope with a code this SDK does not know (a newer server) is http_<status>', async () => {
    server.on('delete', '/tasks/cleanup', {
      status: 409,
      json: { success: false, error: 'cleanup_busy', message: 'Another cleanup runs' },
    });
    const error = await failure(client().cleanupTasks());
    expect(error).toMatchObject({ code: 'http_409', status: 409 });
    expect((error as Error).message).toContain('"cleanup_busy": Another cleanup runs');
  });

  it('an envelope whose error is a sentence is not taken as a code', async () => {
    server.on('get', '/health', {
      status: 500,
      json: { success: false, error: 'something broke', message: 'something broke' },
    });
    expect(await failure(client().health())).toMatchObject({ code: 'http_500' });
  });
});

describe('errors carry the answer headers', () => {
  it.each([
    ['ProxyResponseError', () => errorReply(503, 'shutting_down', { 'x-request-id': 'q-1' })],
    ['TaskNotFoundError', () => errorReply(404, 'task_not_found', { 'x-request-id': 'q-1' })],
    ['UnauthorizedError', () => errorReply(401, 'unauthorized', { 'x-request-id': 'q-1' })],
  ])('%s', async (name, reply) => {
    server.on('get', '/task/:id', reply());
    const error = (await failure(client().getTask(TASK_ID))) as ProxyError;
    expect(error.name).toBe(name);
    expect(error.headers).toBeInstanceOf(Headers);
    expect(error.headers?.get('x-request-id')).toBe('q-1');
  });

  it('invalid_response too; errors without an answer have none', async () => {
    server.on('get', '/stats', { text: '<html>', headers: { 'content-type': 'text/html' } });
    const invalid = (await failure(client().getStats())) as ProxyError;
    expect(invalid.code).toBe('invalid_response');
    expect(invalid.headers?.get('content-type')).toBe('text/html');
    server.on('get', '/health', { network: true });
    expect(((await failure(client().health())) as ProxyError).headers).toBeUndefined();
  });
});

describe('a 401 says whether a key was sent', () => {
  it.each([
    [{}, false],
    [{ apiKey: 'wrong' }, true],
  ])('%j → apiKeySent %s', async (options, sent) => {
    server.on('get', '/stats', errorReply(401, 'unauthorized'));
    const error = await failure(client(options).getStats());
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect((error as UnauthorizedError).apiKeySent).toBe(sent);
  });
});
