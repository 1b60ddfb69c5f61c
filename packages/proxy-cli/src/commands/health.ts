import { CliError } from '../cli-error.js';
import type { CommandContext } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { renderHealth, type SentHealth } from '../render/health.js';
import { withinTimeout } from './bounded.js';

/**
 * `--health`: the proxy answers, reaches its target and can use its store; anything less exits 5
 * for scripts, with the reasons.
 */
export async function checkHealth(ctx: CommandContext): Promise<void> {
  const health = await withinTimeout(ctx, (signal) => ctx.client.health({ signal }));
  ctx.output.document(health);
  ctx.output.data(renderHealth(health, ctx.options.url, ctx.output.look));
  const unhealthy = unhealthyError(health);
  if (unhealthy) throw unhealthy;
}

/** Exit 5 with the reasons when the proxy is not healthy; null when it is. */
export function unhealthyError(health: SentHealth, hint?: string): CliError | null {
  if (health.status === 'ok') return null;
  const { target, store } = health;
  const reasons = [
    target.reachable
      ? null
      : `it cannot reach its target${target.url === undefined ? '' : ` ${target.url}`}${target.message ? ` (${target.message})` : ''}`,
    store?.available === false
      ? `its task store cannot be used${store.message ? ` (${store.message})` : ''}`
      : null,
  ].filter((reason) => reason !== null);
  return new CliError(
    EXIT_CODES.proxyError,
    `the proxy is ${health.status}${reasons.length > 0 ? `: ${reasons.join('; ')}` : ''}`,
    hint,
    { code: `health_${health.status}` },
  );
}
