import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from '../errors.js';
import { dashboardDoc } from '../openapi/route-docs.js';
import { addVary } from '../routes/vary.js';
import { errorResponses } from '../schemas/route-schemas.js';

/** Where the dashboard is served; its files are under it. */
export const UI_PATH = '/ui';

/**
 * The page needs nothing from elsewhere: its script, its stylesheet and the API of the proxy
 * that serves it.
 */
const CSP = [
  "default-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "style-src 'self'",
  "script-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

/**
 * The built dashboard (packages/proxy-server/ui, built into dist/ui): next to the bundle that
 * runs (dist/index.js, dist/bin.js), or, from the sources in tests, in the package's dist.
 */
function assetDir(): string | null {
  for (const candidate of ['./ui/', '../../dist/ui/']) {
    const dir = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  return null;
}

function asset(name: string, body: Buffer): Asset {
  return {
    type: TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream',
    body,
    gzip: gzipSync(body, { level: 9 }),
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
  };
}

/**
 * `GET /ui`: the dashboard, served from memory, gzipped for browsers that take it, revalidated
 * by ETag. Its page and files are open without the API key (they hold no data); the page asks for
 * the key when the server needs one (it says so in the page) and sends it with every call.
 */
export async function uiRoutes(app: FastifyInstance): Promise<void> {
  const dir = assetDir();
  const assets = new Map<string, Asset>();
  if (dir !== null) {
    const needsKey = app.proxy.config.apiKey !== null;
    const html = readFileSync(`${dir}index.html`, 'utf8').replace(
      '<meta name="proxy-auth" content="" />',
      `<meta name="proxy-auth" content="${needsKey ? 'bearer' : ''}" />`,
    );
    assets.set('index.html', asset('index.html', Buffer.from(html)));
    for (const name of ['app.js', 'app.css']) {
      assets.set(name, asset(name, readFileSync(`${dir}${name}`)));
    }
  }
  const serve = (name: string, request: FastifyRequest, reply: FastifyReply) => {
    const file = assets.get(name);
    if (!file) {
      return sendError(
        reply,
        'not_found',
        dir === null ? 'The dashboard was not built (pnpm build)' : `No file ${name} in /ui`,
      );
    }
    reply
      .header('content-type', file.type)
      .header('cache-control', 'no-cache')
      .header('etag', file.etag)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer');
    addVary(reply, 'accept-encoding');
    if (name === 'index.html') reply.header('content-security-policy', CSP);
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
    if (/\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) {
      return reply.header('content-encoding', 'gzip').send(file.gzip);
    }
    return reply.send(file.body);
  };

  const html = {
    200: {
      description: 'The dashboard page',
      content: { 'text/html': { schema: { type: 'string' } } },
    },
    ...errorResponses,
  };
  app.get(
    UI_PATH,
    {
      schema: {
        operationId: 'getDashboard',
        summary: 'The dashboard: live figures, tasks, cancel and retry, in a browser',
        description:
          'A page and its two files, built into the package, served without the API key (they hold no data). The page asks for the key if the proxy needs one, keeps it for the tab, and reads everything through this API.',
        tags: ['operations'],
        security: [],
        response: html,
      },
      config: { swaggerTransform: dashboardDoc },
    },
    (request, reply) => serve('index.html', request, reply),
  );
  app.get(`${UI_PATH}/`, { schema: { hide: true } }, (_request, reply) =>
    reply.redirect('../ui', 301),
  );
  app.get<{ Params: { file: string } }>(
    `${UI_PATH}/:file`,
    {
      schema: {
        operationId: 'getDashboardFile',
        summary: "The dashboard's script and stylesheet",
        tags: ['operations'],
        security: [],
        params: {
          type: 'object',
          required: ['file'],
          properties: { file: { type: 'string', description: 'app.js or app.css' } },
        },
        response: {
          200: {
            description: 'app.js or app.css',
            content: {
              'text/javascript': { schema: { type: 'string' } },
              'text/css': { schema: { type: 'string' } },
            },
          },
          ...errorResponses,
        },
      },
      config: { swaggerTransform: dashboardDoc },
    },
    (request, reply) =>
      // The page's links are relative to /ui: at /ui/index.html they would name /ui/ui/app.js.
      request.params.file === 'index.html'
        ? reply.redirect('../ui', 301)
        : serve(request.params.file, request, reply),
  );
}
