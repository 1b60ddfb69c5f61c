import { CliError } from '../cli-error.js';
import type { CommandContext } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { renderHealth } from '../render/health.js';

/** `--health`: the proxy answers and reaches its target; anything less exits 5 for scripts. */
export async function checkHealth(ctx: CommandContext): Promise<void> {
  const health = await ctx.client.health({ signal: ctx.signal });
  ctx.output.document(health);
  ctx.output.data(renderHealth(health, ctx.options.url, ctx.output.look));
  if (health.status !== 'ok') {
    throw new CliError(
      EXIT_CODES.proxyError,
      health.target.reachable
        ? `the proxy is ${health.status}`
        : `the proxy is ${health.status}: it cannot reach its target ${health.target.url}`,
      undefined,
      { code: `health_${health.status}` },
    );
  }
}
