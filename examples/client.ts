// The client every example uses: the proxy at PROXY_URL (default http://localhost:8080).
// With no proxy there, an example ends with one line saying so and what to do, rather than the
// error's stack: that is what most people meet on their first run.
import { isProxyUnreachableError, ProxyClient } from 'proxy-client';

export const proxyUrl = process.env.PROXY_URL ?? 'http://localhost:8080';
export const client = new ProxyClient({ baseUrl: proxyUrl });

process.on('uncaughtException', (error) => {
  if (isProxyUnreachableError(error)) {
    const example = process.argv[1]?.replace(/^.*[/\\]|\.ts$/g, '') ?? 'example';
    console.error(
      `${example}: ${error.message}\n` +
        `  start a proxy first (docs/getting-started.md, steps 1 to 3), or set PROXY_URL to yours`,
    );
  } else {
    console.error(error);
  }
  process.exit(1);
});
