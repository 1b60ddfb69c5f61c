// The README's first command: a slow demo target, the real proxy in front of it, and the CLI's
// guided demo against the proxy. Everything it starts is stopped before it exits.
import { spawn } from 'node:child_process';
import { startSlowTarget } from '../examples/slow-target/server.mjs';
import { proxyCliBin, spawnProxyServer } from '../tools/test-support/index.mjs';

const target = await startSlowTarget();
console.log(`demo: slow-target listening on ${target.url}`);
let proxy;
try {
  proxy = await spawnProxyServer({
    args: [
      '--target-url',
      target.url,
      '--max-concurrent',
      '4',
      '--num-workers',
      '4',
      '--max-queue-size',
      '10',
      '--long-task-threshold',
      '2',
      '--log-level',
      'warn',
    ],
  });
  console.log(`demo: proxy-server listening on ${proxy.url}\n`);
  // The proxy stops with this script, so the CLI must not end by pointing at it.
  const cli = spawn(process.execPath, [proxyCliBin, '--demo', 'all', '--url', proxy.url], {
    stdio: 'inherit',
    env: { ...process.env, PROXY_CLI_DEMO_PROXY_STOPS: '1' },
  });
  const stopCli = () => cli.kill('SIGINT');
  process.once('SIGINT', stopCli);
  process.once('SIGTERM', stopCli);
  const [code] = await new Promise((resolve) => cli.once('exit', (...args) => resolve(args)));
  process.exitCode = code ?? 1;
} finally {
  await proxy?.stop();
  await target.close();
}
