import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SlowTarget, startSlowTarget } from '../../../examples/slow-target/server.mjs';
import { type ProxyProcess, spawnProxyServer } from '../../../tools/test-support/index.mjs';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/**
 * The directory the docs tell readers to put on PATH in a clone (getting-started.md), so the
 * blocks call `proxy-server`, `proxy-cli` and `slow-target` exactly as a reader would. The
 * running Node comes first so Node-24 runs of the suite stay on Node 24.
 */
export const docsPath = [
  dirname(process.execPath),
  join(repoRoot, 'examples', 'node_modules', '.bin'),
  process.env.PATH ?? '',
].join(delimiter);

/** The API key of the second proxy, for blocks that show authentication. */
export const DOCS_API_KEY = 'docs-example-key';

export interface DocEnvironment {
  target: SlowTarget;
  proxy: ProxyProcess;
  /** Started on first use: a proxy that requires `DOCS_API_KEY`. */
  keyedProxy(): Promise<ProxyProcess>;
  close(): Promise<void>;
}

/** slow-target and a real proxy-server in front of it, both on ephemeral ports. */
export async function startDocEnvironment(): Promise<DocEnvironment> {
  const target = await startSlowTarget();
  const targetArgs = ['--target-host', '127.0.0.1', '--target-port', String(target.port)];
  const started: ProxyProcess[] = [];
  const start = async (extra: string[]) => {
    const proxy = await spawnProxyServer({
      args: [...targetArgs, '--log-level', 'warn', ...extra],
    });
    started.push(proxy);
    return proxy;
  };
  try {
    const proxy = await start([]);
    let keyed: Promise<ProxyProcess> | undefined;
    return {
      target,
      proxy,
      keyedProxy: () => {
        keyed ??= start(['--api-key', DOCS_API_KEY]);
        return keyed;
      },
      async close() {
        // Blocks may leave slow tasks behind; nothing here is worth a graceful drain.
        await Promise.all(started.map((p) => p.stop('SIGKILL')));
        await target.close();
      },
    };
  } catch (err) {
    await Promise.all(started.map((p) => p.stop('SIGKILL')));
    await target.close();
    throw err;
  }
}
