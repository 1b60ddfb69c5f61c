import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { HealthBody } from 'proxy-client/wire';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startProxy } from '../helper.js';
import { CERT, KEY } from '../self-signed-cert.js';

// Interoperability pass: a task whose call to an https:// target failed on TLS ended
// `upstream_error` with "failed for another reason (UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to
// verify the first certificate)", or, for https:// to a plain HTTP port, with OpenSSL's
// multi-line "wrong version number" record; nothing said how to trust a private CA. A target
// whose answer headers pass Node's 16 KiB limit failed with a bare "Headers Overflow Error".
// Each now says what happened in words and what to do, the code kept; and /health, which said
// only `"reachable": false` of such a target, says why.

async function listening(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as AddressInfo).port;
}

describe('a failed upstream call says why in words', () => {
  it('names an untrusted certificate and how to trust its CA', async () => {
    const port = await listening(
      createHttpsServer({ key: KEY, cert: CERT }, (_request, response) => response.end('ok')),
    );
    const proxy = await startProxy(`https://127.0.0.1:${port}`, { listen: true });
    const task = await proxy.finished(await proxy.submit('/api/x'));
    expect(task.error?.code).toBe('upstream_error');
    expect(task.error?.message).toContain('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(task.error?.message).toContain('not signed by a CA the proxy trusts');
    expect(task.error?.message).toContain('NODE_EXTRA_CA_CERTS');
  });

  it('/health says why it cannot reach the target, not only that it cannot', async () => {
    const port = await listening(
      createHttpsServer({ key: KEY, cert: CERT }, (_request, response) => response.end('ok')),
    );
    const proxy = await startProxy(`https://127.0.0.1:${port}`, { listen: true });
    const health = (await (await fetch(`${proxy.url}/health`)).json()) as HealthBody;
    expect(health.target.reachable).toBe(false);
    expect(health.target.message).toContain('NODE_EXTRA_CA_CERTS');

    const up = await listening(createHttpServer((_request, response) => response.end('ok')));
    const fine = await startProxy(`http://127.0.0.1:${up}`, { listen: true });
    const ok = (await (await fetch(`${fine.url}/health`)).json()) as HealthBody;
    expect(ok.target).toMatchObject({ reachable: true, message: null });
  });

  it('says an https:// target that answers in plain HTTP does not speak TLS, on one line', async () => {
    const port = await listening(createHttpServer((_request, response) => response.end('plain')));
    const proxy = await startProxy(`https://127.0.0.1:${port}`, { listen: true });
    const task = await proxy.finished(await proxy.submit('/api/x'));
    expect(task.error?.code).toBe('upstream_error');
    expect(task.error?.message).toContain('does not speak TLS');
    expect(task.error?.message).toContain('http://');
    expect(task.error?.message).not.toContain('\n');
  });

  it('names the 16 KiB limit on the headers of an answer, and how to raise it', async () => {
    const port = await listening(
      createHttpServer((_request, response) => {
        response.setHeader('x-big', 'a'.repeat(20_000));
        response.end('ok');
      }),
    );
    const proxy = await startProxy(`http://127.0.0.1:${port}`, { listen: true });
    const task = await proxy.finished(await proxy.submit('/api/x'));
    expect(task.error?.code).toBe('upstream_error');
    expect(task.error?.message).toContain('UND_ERR_HEADERS_OVERFLOW');
    expect(task.error?.message).toContain('16 KiB');
    expect(task.error?.message).toContain('--max-http-header-size');
  });

  // Hostile-caller pass: an answer whose headers were just under 16 KiB completed, and then its
  // replay, with the proxy's own headers added, passed the limit of every Node client: fetch
  // and the SDK failed to read /result with UND_ERR_HEADERS_OVERFLOW.
  it('takes no answer whose replay would pass a client’s 16 KiB, and replays one within it', async () => {
    const port = await listening(
      createHttpServer((request, response) => {
        const size = Number(new URL(request.url ?? '/', 'http://x').searchParams.get('size'));
        response.setHeader('x-long', 'a'.repeat(size));
        response.end('ok');
      }),
    );
    const proxy = await startProxy(`http://127.0.0.1:${port}`, { listen: true });
    const near = await proxy.finished(await proxy.submit('/api/x?size=16200'));
    expect(near.error?.code).toBe('upstream_error');
    expect(near.error?.message).toContain('--max-http-header-size');
    const within = await proxy.finished(await proxy.submit('/api/x?size=14000'));
    expect(within.status).toBe('completed');
    const replay = await fetch(`${proxy.url}/task/${within.task_id}/result`);
    expect(replay.headers.get('x-long')).toHaveLength(14_000);
  });
});
