import { connect } from 'node:net';
import { ERROR_CODES } from 'proxy-client/wire';
import { describe, expect, it, onTestFailed } from 'vitest';
import { startProxy, startTarget } from './helper.js';
import { seededRandom } from './seeded-random.js';

// A few thousand randomised requests, byte for byte over real sockets, from a fixed seed:
// methods, paths (encoded, dot segments, absolute-form), query values (Infinity, NaN, huge,
// negative), headers and bodies. Every answer of the proxy's own must be the error envelope with
// its code's status, nothing may answer 500, and the proxy must be healthy afterwards.
// Another seed: FUZZ_SEED=<n>; more requests: FUZZ_REQUESTS=<n>.

const SEED = Number(process.env.FUZZ_SEED ?? 0x16);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 3000);
const CONCURRENCY = 16;
const BODY_LIMIT = 64 * 1024;

interface FuzzRequest {
  index: number;
  bytes: Buffer;
  method: string;
  hasBody: boolean;
}

interface Outcome {
  status: number;
  headers: string;
  body: string;
  reset: boolean;
}

const UUID = '0b7a6a2e-1d6c-4f3e-9b0a-2f4c8d9e1a7b';
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'QUERY'];
const ODD_METHODS = ['PROPFIND', 'FOO', 'get', 'CONNECT', 'G E T'];
// No slow-target endpoint that waits or answers big: the fuzz is about the proxy.
const PATHS = [
  '/',
  '/api/echo',
  '/api/function1',
  '/api/fail',
  '/api/text',
  '/api/reset',
  '/api/',
  '/api/unknown/deeper',
  `/task/${UUID}`,
  '/task/not-a-uuid',
  '/task/%zz',
  '/tasks',
  '/tasks/cleanup',
  '/stats',
  '/health',
  '/nothing/here',
  '/%61pi/../admin',
  '/api/../admin',
  '/api/%2e%2e/admin',
  '/api/..%2fadmin',
  '/api/..;/admin',
  '/api//echo',
  '/api/%2F%2Fevil/x',
  'http://evil.example/api/echo',
  '*',
  '//evil.example/api/x',
  '/api/%zz',
  '/api/é',
];
const SEGMENTS = [
  '..',
  '.',
  '%2e%2e',
  '%2E.',
  '%2F',
  '%5C',
  '\\',
  ';x',
  'x',
  '%00',
  '%25',
  '',
  'a'.repeat(300),
];
const QUERY_KEYS = ['limit', 'offset', 'wait', 'status', 'max_age_hours', 'q', 'limit'];
const QUERY_VALUES = [
  'Infinity',
  '-Infinity',
  'NaN',
  '1e400',
  '-1',
  '0',
  '1',
  '2.5',
  '60',
  '61',
  '1000',
  '1001',
  '9007199254740993',
  '99999999999999999999999',
  '',
  'abc',
  'completed',
  '%00',
  '0x10',
  '[]',
];
const CONTENT_TYPES = [
  'application/json',
  'text/plain; charset=utf-8',
  'application/octet-stream',
  'multipart/form-data; boundary=x',
  ';;;',
  'application/json; charset=latin1',
];

function generate(random: () => number, index: number): FuzzRequest {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const chance = (p: number) => random() < p;

  const method = chance(0.04) ? pick(ODD_METHODS) : pick(METHODS);
  let path = pick(PATHS);
  for (let n = Math.floor(random() * 3); n > 0 && chance(0.4); n--) path += `/${pick(SEGMENTS)}`;
  if (chance(0.5)) {
    const pairs = Array.from(
      { length: 1 + Math.floor(random() * 3) },
      () => `${pick(QUERY_KEYS)}=${pick(QUERY_VALUES)}`,
    );
    path += `?${pairs.join('&')}`;
  }

  const headers = ['Host: fuzz.example', 'Connection: close'];
  if (chance(0.3)) headers.push(`Content-Type: ${pick(CONTENT_TYPES)}`);
  if (chance(0.05)) headers.push(`Expect: ${pick(['100-continue', 'foo', ''])}`);
  if (chance(0.1)) headers.push('Origin: https://app.example');
  if (chance(0.1)) headers.push(`Access-Control-Request-Method: ${pick(METHODS)}`);
  if (chance(0.05)) headers.push(`Authorization: Bearer ${pick(['x', '', 'a'.repeat(100)])}`);
  if (chance(0.05)) headers.push(`X-Proxy-Priority: ${pick(['high', 'low', 'Infinity'])}`);
  if (chance(0.02)) headers.push(`X-Long: ${'v'.repeat(20_000)}`);
  if (chance(0.02)) headers.push('Bad Header: x');

  let body = Buffer.alloc(0);
  if (chance(0.4)) {
    const size = pick([0, 1, 2, 100, 4096, BODY_LIMIT, BODY_LIMIT + 1]);
    body =
      size > 0 && chance(0.3)
        ? Buffer.from('['.repeat(size))
        : Buffer.from(Array.from({ length: size }, () => Math.floor(random() * 256)));
  }
  const framing = chance(0.02) ? 'duplicate' : chance(0.15) ? 'chunked' : 'length';
  let payload = body;
  if (framing === 'chunked') {
    headers.push('Transfer-Encoding: chunked');
    payload = Buffer.concat([
      ...(body.length > 0
        ? [Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n')]
        : []),
      Buffer.from('0\r\n\r\n'),
    ]);
  } else if (framing === 'duplicate') {
    headers.push(`Content-Length: ${body.length}`, `Content-Length: ${body.length + 1}`);
  } else if (body.length > 0 || chance(0.3)) {
    headers.push(`Content-Length: ${body.length}`);
  }

  const head = `${method} ${path} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`;
  return {
    index,
    bytes: Buffer.concat([Buffer.from(head, 'utf8'), payload]),
    method,
    hasBody: body.length > 0,
  };
}

function send(baseUrl: string, request: FuzzRequest): Promise<Outcome> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve) => {
    // Written, not ended: Node takes a client's half-close as going away, and answers no one.
    const socket = connect({ host: hostname, port: Number(port) }, () =>
      socket.write(request.bytes),
    );
    const chunks: Buffer[] = [];
    let reset = false;
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {
      reset = true;
    });
    socket.on('close', () => {
      // 1xx answers (100 Continue) come before the real one.
      const text = Buffer.concat(chunks)
        .toString('utf8')
        .replace(/^(HTTP\/1\.1 1\d\d [^\r]*\r\n\r\n)+/, '');
      const split = text.indexOf('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const headers = split === -1 ? text : text.slice(0, split);
      let body = split === -1 ? '' : text.slice(split + 4);
      if (/^transfer-encoding: chunked/im.test(headers)) body = unchunk(body);
      resolve({ status, headers, body, reset });
    });
  });
}

function unchunk(text: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const lineEnd = text.indexOf('\r\n', at);
    const size = Number.parseInt(text.slice(at, lineEnd), 16);
    if (!(size > 0)) return out;
    out += text.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}

/** What is wrong with one answer, or null. */
function problemWith(request: FuzzRequest, outcome: Outcome): string | null {
  if (outcome.status === 0) {
    // Refusing a body unread closes the connection, which may reset it before the answer is read.
    return outcome.reset && request.hasBody ? null : 'no answer';
  }
  if (outcome.status === 500) return 'answered 500';
  if (outcome.status < 400) return null;
  if (request.method === 'HEAD') return null;
  let envelope: { success?: unknown; error?: unknown; message?: unknown };
  try {
    envelope = JSON.parse(outcome.body);
  } catch {
    return `${outcome.status} without a JSON body: ${outcome.body.slice(0, 100)}`;
  }
  const code = envelope.error as keyof typeof ERROR_CODES;
  if (envelope.success !== false || typeof envelope.message !== 'string' || !(code in ERROR_CODES))
    return `${outcome.status} without the envelope: ${outcome.body.slice(0, 200)}`;
  if (ERROR_CODES[code] !== outcome.status) return `${outcome.status} with code ${code}`;
  if (outcome.status >= 500 && code !== 'queue_full') return `${outcome.status} ${code}`;
  return null;
}

describe('fuzz', () => {
  it(`answers ${REQUESTS} random requests (seed ${SEED}) with envelopes, and stays healthy`, async () => {
    onTestFailed(() => {
      console.error(`fuzz failed with FUZZ_SEED=${SEED} FUZZ_REQUESTS=${REQUESTS}`);
    });
    const target = await startTarget();
    const proxy = await startProxy(target.url, {
      listen: true,
      flags: [
        '--body-limit',
        String(BODY_LIMIT),
        '--request-timeout',
        '5',
        '--max-queue-size',
        '50',
        '--cors-origin',
        'https://app.example',
      ],
    });
    const random = seededRandom(SEED);
    const requests = Array.from({ length: REQUESTS }, (_, index) => generate(random, index));
    const rssBefore = process.memoryUsage().rss;

    const problems: string[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let request = requests[next++]; request; request = requests[next++]) {
          const outcome = await send(proxy.url, request);
          statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
          const problem = problemWith(request, outcome);
          if (problem) {
            const head = request.bytes.subarray(0, 200).toString('latin1');
            problems.push(`#${request.index} ${problem}\n    ${JSON.stringify(head)}`);
          }
        }
      }),
    );

    expect(problems, `FUZZ_SEED=${SEED}; statuses ${JSON.stringify([...statuses])}`).toEqual([]);
    // The mix reached the routes it is meant to, not only the parser's refusals.
    for (const status of [200, 202, 400, 404, 413]) expect(statuses.get(status)).toBeGreaterThan(0);
    expect((await fetch(`${proxy.url}/health`)).status).toBe(200);
    const stats = await fetch(`${proxy.url}/stats`);
    expect(stats.status).toBe(200);
    expect(((await stats.json()) as { success: boolean }).success).toBe(true);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 1024 * 1024);
  });
});
