import { describe, expect, it } from 'vitest';
import { isProxyOutage, ProxyClient } from '../../src/index.js';
import { makeTask, TASK_ID } from '../helpers/fixtures.js';

/**
 * Browser pass: a proxy restarted without the page's origin in --cors-origin was taken for one
 * still away. `isProxyOutage` was true of every `unreachable`, the origin refusal the SDK had
 * told apart too, so a wait rode it out to its timeoutMs (`WaitTimeoutError`, the task finished
 * long before) and a watch until its signal, and `onOutage` never heard that the proxy was back.
 */

type Phase = 'up' | 'down' | 'refusing';

/**
 * fetch as a browser has it: a proxy away and a proxy refusing this origin both fail with a
 * bare "Failed to fetch"; only an opaque `no-cors` read (the SDK's probe) tells them apart.
 * `phaseOf` says, by the number of the task read, what the proxy is doing.
 */
function browserFetch(phaseOf: (read: number) => Phase): typeof fetch {
  let reads = 0;
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const probe = url.endsWith('/health');
    const phase = phaseOf(probe ? reads : ++reads);
    if (phase === 'down') throw new TypeError('Failed to fetch');
    if (phase === 'refusing') {
      if (probe && init?.mode === 'no-cors') return new Response(null);
      throw new TypeError('Failed to fetch');
    }
    return Response.json({ success: true, data: makeTask({ status: 'processing' }) });
  };
}

const afterAnOutage = (read: number): Phase =>
  read === 1 ? 'up' : read <= 3 ? 'down' : 'refusing';

describe('a proxy back from an outage that refuses the page’s origin', () => {
  it('ends a wait at once with the refusal, and onOutage hears the proxy is back', async () => {
    const client = new ProxyClient({
      baseUrl: 'http://127.0.0.1:8080',
      maxRetries: 0,
      fetch: browserFetch(afterAnOutage),
    });
    const heard: string[] = [];
    const error = await client
      .waitForTask(TASK_ID, {
        pollIntervalMs: 20,
        timeoutMs: 5_000,
        onOutage: (outage) => heard.push(outage === undefined ? 'back' : `away: ${outage.code}`),
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ProxyUnreachableError', code: 'unreachable' });
    expect((error as Error).message).toMatch(/: it answers, but not to this page's origin/);
    expect(isProxyOutage(error)).toBe(false);
    expect(heard).toEqual(['away: unreachable', 'back']);
  });

  it('is no outage, where a proxy away is one', async () => {
    const refusing = new ProxyClient({
      baseUrl: 'http://127.0.0.1:8080',
      maxRetries: 0,
      fetch: browserFetch(() => 'refusing'),
    });
    const away = new ProxyClient({
      baseUrl: 'http://127.0.0.1:8080',
      maxRetries: 0,
      fetch: browserFetch(() => 'down'),
    });
    expect(isProxyOutage(await refusing.getStats().catch((e: unknown) => e))).toBe(false);
    expect(isProxyOutage(await away.getStats().catch((e: unknown) => e))).toBe(true);
  });
});
