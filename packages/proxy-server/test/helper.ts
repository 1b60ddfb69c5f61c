import { execFile, spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo, connect, createServer as createNetServer, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import {
  type DataBody,
  isTerminalStatus,
  type Stats,
  type SubmitBody,
  type Task,
} from 'proxy-client/wire';
import { type SlowTarget, type SlowTargetOptions, startSlowTarget } from 'slow-target';
import { proxyServerBin, waitFor } from 'test-support';
import { expect, onTestFinished, vi } from 'vitest';
import { parseConfig } from '../src/config/parse-config.js';
import { buildServer, type ProxyConfig, type ServerDeps } from '../src/index.js';

/**
 * The config the bin would build from these flags, silent unless a test asks for logs, and in
 * memory unless a test names a store.
 */
export function configFor(target: string, flags: string[] = []): ProxyConfig {
  const store = flags.includes('--store') ? [] : ['--store', 'memory'];
  const parsed = parseConfig(
    ['--target-url', target, '--log-level', 'silent', ...store, ...flags],
    {},
  );
  if (parsed.kind !== 'run') throw new Error('flags asked for help, not a config');
  return parsed.config;
}

export interface TestServer {
  app: FastifyInstance;
  /** Base URL when listening, e.g. `http://127.0.0.1:41234`; empty for inject-only servers. */
  url: string;
  /** Submits through the real socket (or inject) and returns the new task's id. */
  submit(
    path: string,
    init?: { method?: string; body?: string | Buffer; headers?: Record<string, string> },
  ): Promise<string>;
  getTask(id: string, query?: string): Promise<Task>;
  /** Polls until the task is completed or failed. */
  finished(id: string, timeoutMs?: number): Promise<Task>;
}

/**
 * Builds the proxy in front of `target` and closes it when the test ends. With `listen` it serves
 * on 127.0.0.1, port 0 unless given (behaviour tests); without, tests use `app.inject`, and tasks are started
 * by hand (`app.proxy.start()`), since they start at the listen.
 */
export async function startProxy(
  target: string,
  options: {
    flags?: string[];
    config?: Partial<ProxyConfig>;
    deps?: ServerDeps;
    listen?: boolean;
    /** The port to listen on (with `listen`): one a stopped proxy of the test had. */
    port?: number;
  } = {},
): Promise<TestServer> {
  const config = { ...configFor(target, options.flags), ...options.config };
  const app = buildServer(config, options.deps);
  onTestFinished(() => app.close());
  let url = '';
  if (options.listen) {
    url = await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  } else {
    await app.ready();
    app.proxy.start();
  }

  const request = async (method: string, path: string, body?: string | Buffer, headers = {}) => {
    if (!options.listen) {
      const response = await app.inject({ method: method as 'GET', url: path, body, headers });
      return { status: response.statusCode, json: () => response.json() };
    }
    const response = await fetch(url + path, { method, body, headers });
    const text = await response.text();
    return { status: response.status, json: () => JSON.parse(text) };
  };

  const server: TestServer = {
    app,
    url,
    async submit(path, init = {}) {
      const response = await request(init.method ?? 'POST', path, init.body, init.headers);
      if (response.status !== 202) {
        throw new Error(
          `submit ${path} answered ${response.status}: ${JSON.stringify(response.json())}`,
        );
      }
      return (response.json() as SubmitBody).task_id;
    },
    async getTask(id, query = '') {
      const response = await request('GET', `/task/${id}${query}`);
      if (response.status !== 200) throw new Error(`GET /task/${id} answered ${response.status}`);
      return (response.json() as DataBody<Task>).data;
    },
    async finished(id, timeoutMs = 10_000) {
      return waitFor(
        async () => {
          const task = await server.getTask(id);
          return isTerminalStatus(task.status) ? task : undefined;
        },
        { timeoutMs, what: `task ${id} to finish` },
      );
    },
  };
  return server;
}

/** `totals.submitted` of a listening proxy's `/stats`: how many tasks it has created. */
export async function tasksSubmitted(baseUrl: string): Promise<number> {
  const stats = (await (await fetch(`${baseUrl}/stats`)).json()) as DataBody<Stats>;
  return stats.data.totals.submitted;
}

/**
 * A node:http target on an ephemeral port that answers `ok` to everything and keeps what
 * `record` makes of each request (given its body as latin1, byte for byte); closed when the test
 * ends.
 */
export async function recordingTarget<Seen>(
  record: (request: IncomingMessage, body: string) => Seen,
): Promise<{ seen: Seen[]; url: string; host: string }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push(record(req, Buffer.concat(chunks).toString('latin1')));
      res.end('ok');
    });
  });
  // Node's default keeps about the first thousand header lines: a test may send more.
  server.maxHeadersCount = 0;
  const url = await serveForTest(server);
  return { seen, url, host: new URL(url).host };
}

/** Listens on 127.0.0.1 and an ephemeral port until the test ends: the server's URL. */
export async function serveForTest(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

/** A target answering every request with `bytes` bytes of `a`, once it has the whole body. */
export function bigAnswerTarget(bytes: number): Promise<string> {
  const body = Buffer.alloc(bytes, 0x61);
  return serveForTest(
    createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.setHeader('content-type', 'application/octet-stream');
        response.end(body);
      });
    }),
  );
}

/** A slow-target on an ephemeral port, closed when the test ends. */
export async function startTarget(options: SlowTargetOptions = {}): Promise<SlowTarget> {
  const target = await startSlowTarget(options);
  onTestFinished(() => target.close());
  return target;
}

/**
 * A TCP target on an ephemeral port, for answers no HTTP server library would send: `answer` gets
 * the socket of each connection once its first bytes came. Sockets still open (a target that
 * stalls) are destroyed when the test ends; the target's URL.
 */
export async function rawTarget(answer: (socket: Socket) => void): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // The proxy aborting a call it gave up on resets the connection: that is no failure here.
    socket.on('error', () => {});
    socket.once('data', () => answer(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

export interface RawResponse {
  status: number;
  head: string;
  body: string;
}

/**
 * Sends `head` (request line and headers, without the blank line) and `body` byte for byte over a
 * fresh TCP connection, for requests a well-behaved client would never send.
 */
export function rawRequest(
  baseUrl: string,
  head: string,
  body: Buffer | string = '',
): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.end(
        Buffer.concat([
          Buffer.from(`${head}\r\nConnection: close\r\n\r\n`, 'latin1'),
          Buffer.from(body),
        ]),
      );
    });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(parseRawResponse(chunks)));
  });
}

/**
 * Writes `bytes` over a fresh TCP connection, then neither sends more nor closes: a stalled
 * client. Resolves once the proxy closes the connection, with its answer (status 0 for none).
 */
export function stalledRequest(
  baseUrl: string,
  bytes: Buffer | string,
): Promise<RawResponse & { elapsedMs: number }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A reset after the answer is still an answer.
    socket.on('error', () => {});
    socket.on('close', () =>
      resolve({ ...parseRawResponse(chunks), elapsedMs: performance.now() - started }),
    );
  });
}

/** The status of every answer in a raw response, in order: pipelined requests get several. */
export function statusesOf(answer: RawResponse): number[] {
  return [...(answer.head + answer.body).matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) =>
    Number(match[1]),
  );
}

function parseRawResponse(chunks: Buffer[]): RawResponse {
  const text = Buffer.concat(chunks).toString('utf8');
  const split = text.indexOf('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  return { status, head: text.slice(0, split), body: text.slice(split + 4) };
}

/**
 * The built proxy started under a limit of `openFiles` descriptors, the hard limit too, so that
 * Node cannot raise the soft one to it; resolves once it listens. Killed when the test ends.
 */
export async function spawnUnderOpenFilesLimit(
  openFiles: number,
  args: string[],
  env: Record<string, string> = {},
) {
  const child = spawn(
    'sh',
    ['-c', `ulimit -n ${openFiles} && exec "$@"`, 'sh', process.execPath, proxyServerBin, ...args],
    { env: { ...process.env, ...env } },
  );
  onTestFinished(() => {
    child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  await vi.waitFor(() => expect(stdout).toMatch(/listening on (\S+)/), { timeout: 15_000 });
  const url = /listening on (\S+)/.exec(stdout)?.[1] ?? '';
  return { child, url, stdout: () => stdout, stderr: () => stderr };
}

/** What the built bin did, run to its end. */
export interface BinRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The built bin run to its end without blocking this process (the tests' own servers, a Redis
 * among them, must answer it), with `env` over this process's; killed past `timeoutMs`.
 */
export function runBinAsync(
  args: string[],
  { env = {}, timeoutMs = 10_000 }: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<BinRun> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [proxyServerBin, ...args],
      { encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, ...env } },
      (_error, stdout, stderr) => resolve({ status: child.exitCode, stdout, stderr }),
    );
  });
}

/** The JSON log lines in what a process wrote (`--log-format json`), parsed; its plain lines left out. */
export const jsonLogLines = <Line = Record<string, unknown>>(output: string): Line[] =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Line);
