/**
 * A time limit as a message says it, in whole milliseconds: a limit the SDK computed from a clock
 * (what is left of a deadline) would otherwise print as `485.4027579999997 ms`.
 */
export function msText(ms: number): string {
  return `${Math.max(1, Math.round(ms))} ms`;
}
