// @ts-check
// A target that behaves like a real slow backend. Every endpoint can be slowed with
// `?delay_ms=N` (or header `x-delay-ms`, or `"delay_ms"` in a JSON body); the server counts
// the requests in flight so tests and benchmarks can check the proxy's concurrency cap at the
// target itself.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';

/** @typedef {import('./server.d.mts').SlowTargetOptions} SlowTargetOptions */
/** @typedef {import('./server.d.mts').SlowTarget} SlowTarget */
/** @typedef {import('./server.d.mts').TargetStats} TargetStats */

const MAX_DELAY_MS = 6 * 60 * 60 * 1000;

/**
 * @param {URLSearchParams} query
 * @param {import('node:http').IncomingHttpHeaders} headers
 * @param {unknown} json
 * @param {number} fallback
 */
function delayOf(query, headers, json, fallback) {
  const fromBody =
    json && typeof json === 'object' && 'delay_ms' in json ? Number(json.delay_ms) : undefined;
  const raw = query.get('delay_ms') ?? headers['x-delay-ms'] ?? fromBody ?? fallback;
  const ms = Number(raw);
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, MAX_DELAY_MS) : fallback;
}

/** @param {Buffer} body @param {string | undefined} type */
function parseJson(body, type) {
  if (!type?.includes('json') || body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Deterministic bytes 0..255 repeating, so a test can check a binary result exactly. */
export function binaryPattern(size) {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = i % 256;
  return out;
}

/** @param {SlowTargetOptions} [options] @returns {Promise<SlowTarget>} */
export async function startSlowTarget(options = {}) {
  const host = options.host ?? '127.0.0.1';
  const defaultDelayMs = options.defaultDelayMs ?? 0;
  /** @type {import('./server.d.mts').RecordedRequest[]} */
  const recorded = [];
  /** Calls so far per `/api/flaky` key. @type {Map<string, number>} */
  const flakyCalls = new Map();
  /** @type {TargetStats} */
  const stats = { inFlight: 0, maxInFlight: 0, requests: 0, closedEarly: 0, byPath: {} };
  /** @type {Set<NodeJS.Timeout>} */
  const timers = new Set();

  /** @param {number} ms */
  /**
   * Waits `ms`, or less when the caller goes away first: a request whose client closed the
   * connection stops holding its place in `inFlight`, as a real server's handler would.
   * @param {number} ms @param {import('node:http').ServerResponse} [res]
   */
  const sleep = (ms, res) =>
    new Promise((resolve) => {
      if (ms <= 0 || res?.destroyed) return resolve(undefined);
      const done = () => {
        clearTimeout(t);
        timers.delete(t);
        res?.off('close', done);
        resolve(undefined);
      };
      const t = setTimeout(done, ms);
      timers.add(t);
      res?.once('close', done);
    });

  /** @param {import('node:http').ServerResponse} res @param {number} status @param {unknown} value */
  const sendJson = (res, status, value) => {
    const body = JSON.stringify(value);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://target.invalid');
    const chunks = [];
    try {
      for await (const chunk of req) chunks.push(chunk);
    } catch {
      // The client went away mid-body (a proxy killed while it forwarded): nobody to answer.
      res.destroy();
      return;
    }
    const body = Buffer.concat(chunks);

    if (url.pathname === '/_target/stats') return sendJson(res, 200, stats);
    if (url.pathname === '/_target/reset') {
      Object.assign(stats, {
        maxInFlight: stats.inFlight,
        requests: 0,
        closedEarly: 0,
        byPath: {},
      });
      return sendJson(res, 200, stats);
    }
    if (url.pathname === '/' || url.pathname === '/health') {
      return sendJson(res, 200, { status: 'ok', service: 'slow-target' });
    }

    stats.requests++;
    stats.byPath[url.pathname] = (stats.byPath[url.pathname] ?? 0) + 1;
    if (options.recordRequests) {
      recorded.push({ method: req.method ?? '', url: req.url ?? '', at: Date.now() });
    }
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    try {
      const json = parseJson(body, req.headers['content-type']);
      await sleep(delayOf(url.searchParams, req.headers, json, defaultDelayMs), res);
      if (res.destroyed) return;
      await route(url, req, res, body, json);
    } finally {
      stats.inFlight--;
      if (!res.writableFinished) stats.closedEarly++;
    }
  });

  /**
   * @param {URL} url @param {import('node:http').IncomingMessage} req
   * @param {import('node:http').ServerResponse} res @param {Buffer} body @param {unknown} json
   */
  async function route(url, req, res, body, json) {
    const q = url.searchParams;
    switch (url.pathname) {
      case '/api/function1':
        return sendJson(res, 200, {
          result: 'ok',
          function: 'function1',
          params: json ?? Object.fromEntries(q),
          processed_at: new Date().toISOString(),
        });
      case '/api/echo':
        return sendJson(res, 200, {
          method: req.method,
          url: req.url,
          headers: req.headers,
          body_base64: body.toString('base64'),
          body_sha256: createHash('sha256').update(body).digest('hex'),
        });
      case '/api/fail': {
        const status = Number(q.get('status') ?? 500);
        return sendJson(res, status >= 100 && status <= 599 ? status : 500, {
          error: 'failed on purpose',
          status,
        });
      }
      case '/api/long': {
        const seconds = Math.min(Number(q.get('seconds') ?? 120) || 120, MAX_DELAY_MS / 1000);
        await sleep(seconds * 1000, res);
        if (res.destroyed) return;
        return sendJson(res, 200, { result: 'done', seconds });
      }
      case '/api/binary': {
        const bytes = binaryPattern(
          Math.min(Number(q.get('bytes') ?? 1024) || 0, 64 * 1024 * 1024),
        );
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': bytes.length,
        });
        return res.end(bytes);
      }
      case '/api/text':
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        return res.end(q.get('text') ?? 'plain text from slow-target');
      case '/api/size': {
        const size = Math.min(Number(q.get('bytes') ?? 1024) || 0, 64 * 1024 * 1024);
        return sendJson(res, 200, { data: 'x'.repeat(size) });
      }
      case '/api/reset':
        return req.socket.destroy();
      case '/api/flaky': {
        // `plan=503@2,reset,200`: the n-th call with this `key` answers as the n-th step says (a
        // status, `@s` adding Retry-After: s, or `reset`); past the end, as the last step.
        const key = q.get('key') ?? '';
        const steps = (q.get('plan') ?? '200').split(',');
        const n = flakyCalls.get(key) ?? 0;
        flakyCalls.set(key, n + 1);
        const step = steps[Math.min(n, steps.length - 1)] ?? '200';
        if (step === 'reset') return req.socket.destroy();
        const [status, retryAfter] = step.split('@');
        if (retryAfter !== undefined) res.setHeader('retry-after', retryAfter);
        return sendJson(res, Number(status) || 500, { call: n + 1, key, step });
      }
      default:
        return sendJson(res, 404, { error: 'no such endpoint', path: url.pathname });
    }
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve(undefined));
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('slow-target: no TCP address');
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;

  let closing;
  return {
    url,
    host,
    port: address.port,
    stats: () => structuredClone(stats),
    requests: () => [...recorded],
    resetStats: () =>
      Object.assign(stats, {
        maxInFlight: stats.inFlight,
        requests: 0,
        closedEarly: 0,
        byPath: {},
      }),
    close() {
      closing ??= new Promise((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.closeAllConnections();
        server.close(() => resolve(undefined));
      });
      return closing;
    },
  };
}
