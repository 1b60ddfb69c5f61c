// The client every example uses: the proxy at PROXY_URL (default http://localhost:8080), with
// PROXY_API_KEY when the proxy wants one. When the proxy cannot be used (none there, a key it
// refuses, a URL that is no URL, a target it cannot reach), an example ends saying so and what
// to do, rather than with the error's stack: that is what most people meet on their first run.
import { isProxyError, isUnauthorizedError, ProxyClient } from 'proxy-client';
import { endsUnderApi } from 'proxy-client/wire';

const example = process.argv[1]?.replace(/^.*[/\\]|\.ts$/g, '') ?? 'example';
const baseUrl = (process.env.PROXY_URL || 'http://localhost:8080').replace(/\/+$/, '');

/** An example's own check that failed: its message says what was expected; no stack. */
export class Surprise extends Error {}

let failing = false;
process.on('uncaughtException', (error) => {
  // The first error is the one to explain; the exit follows it.
  if (failing) return;
  failing = true;
  if (isProxyError(error)) {
    const hint = hintFor(error);
    console.error(`${example}: ${error.message}${hint ? `\n  ${hint}` : ''}`);
    process.exit(1);
  }
  void explainSurprise(error).finally(() => process.exit(1));
});

/**
 * An example's own check failed. With the target down every task fails at once, and each
 * example's check would only say what it expected: ask the proxy whether that is why.
 */
async function explainSurprise(error: Error): Promise<void> {
  console.error(error instanceof Surprise ? `${example}: ${error.message}` : error);
  const target = await unreachableTarget();
  if (target === null) return;
  console.error(
    `${example}: the proxy cannot reach its target, ${target} (GET ${baseUrl}/health says so)\n` +
      '  start the target (docs/getting-started.md, step 2), or restart the proxy with --target-host and --target-port set to yours',
  );
}

async function unreachableTarget(): Promise<string | null> {
  try {
    const health = await client.health({ timeoutMs: 3_000, maxRetries: 0 });
    return health.target.reachable ? null : health.target.url;
  } catch {
    return null;
  }
}

/** What to do about the errors a first run meets. */
function hintFor(error: Error): string | null {
  if (isUnauthorizedError(error)) return "set PROXY_API_KEY to the proxy's --api-key";
  if (
    isProxyError(error) &&
    error.code === 'unreachable' &&
    /ECONNREFUSED|ENOTFOUND/.test(error.message)
  ) {
    return 'start a proxy first (docs/getting-started.md, steps 1 to 3), or set PROXY_URL to yours';
  }
  return null;
}

export const client = connect();

function connect(): ProxyClient {
  let proxy: ProxyClient;
  try {
    proxy = new ProxyClient({ baseUrl });
  } catch (error) {
    refuse(
      `PROXY_URL ${JSON.stringify(baseUrl)}`,
      (error as Error).message,
      "the proxy's base URL, e.g. http://localhost:8080",
    );
  }
  // The SDK refuses a submission there only when it is made; a read there would be sent to the
  // target as a task first.
  if (endsUnderApi(proxy.baseUrl)) {
    refuse(
      `PROXY_URL ${JSON.stringify(baseUrl)}`,
      'it ends in /api, where the proxy takes tasks for the target',
      `the proxy's base URL: ${new URL('.', proxy.baseUrl).href.replace(/\/$/, '')}`,
    );
  }
  const apiKey = process.env.PROXY_API_KEY;
  if (!apiKey) return proxy;
  try {
    return new ProxyClient({ baseUrl, apiKey });
  } catch (error) {
    // Not shown: a key is a secret, even one that cannot be sent.
    refuse('PROXY_API_KEY', (error as Error).message, "the proxy's --api-key, as it was given");
  }
}

/** A setting the examples cannot use: which, why, and what to set it to; exit 2. */
function refuse(setting: string, problem: string, wanted: string): never {
  console.error(`${example}: ${setting}: ${problem}\n  set it to ${wanted}`);
  process.exit(2);
}
